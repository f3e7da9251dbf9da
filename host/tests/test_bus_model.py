"""The bus model of a simulated line: bytes at the wire rate plus their gaps, handed to the
host in bursts at the USB-serial adapter's latency-timer ticks, as a real adapter does."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from meterbench.config.bench import BusInfo
from meterbench.sim.line import Scheduled
from meterbench.sim.servers import Transmitter
from meterbench.sim.virtual_loop import run as run_virtual

BYTE_S = 11 / 2400  # one character at 2400 Bd, 8E1


def _deliveries(latency_s: float, gap_s: float, count: int) -> list[tuple[float, int]]:
    async def main() -> list[tuple[float, int]]:
        loop = asyncio.get_running_loop()
        seen: list[tuple[float, int]] = []
        tx = Transmitter(
            lambda data: seen.append((loop.time(), len(data))),
            pace=True,
            char_bits=11,
            latency_s=latency_s,
            gap_s=gap_s,
        )
        tx.push([Scheduled(loop.time(), bytes(count), 2400)])
        while sum(n for _, n in seen) < count:
            await asyncio.sleep(0.001)
        await tx.close()
        return seen

    return run_virtual(main())


def test_without_a_model_every_byte_arrives_at_the_wire_rate() -> None:
    seen = _deliveries(0.0, 0.0, 4)
    assert [n for _, n in seen] == [1, 1, 1, 1]
    assert seen[-1][0] == pytest.approx(4 * BYTE_S, abs=1e-6)


def test_an_adapter_hands_bytes_over_at_its_latency_ticks() -> None:
    seen = _deliveries(0.016, 0.0, 10)
    # bytes complete at 4.6, 9.2, 13.8 | 18.3, 22.9, 27.5 | 32.1 ... 45.8 ms
    assert [n for _, n in seen] == [3, 3, 4]
    assert [t for t, _ in seen] == pytest.approx([0.016, 0.032, 0.048], abs=1e-6)


def test_gaps_between_bytes_stretch_a_reply() -> None:
    seen = _deliveries(0.0, 0.002, 3)
    assert seen[-1][0] == pytest.approx(3 * (BYTE_S + 0.002), abs=1e-6)


def test_the_bus_model_is_bench_config_data() -> None:
    bus = BusInfo(id="M1", url="sim://bus/M1", adapter_latency_s=0.016, inter_byte_gap_s=0.001)
    assert (bus.adapter_latency_s, bus.inter_byte_gap_s) == (0.016, 0.001)
    with pytest.raises(ValueError):
        BusInfo(id="M1", url="x", adapter_latency_s=-1)


def test_a_simulated_bench_paces_its_lines_with_the_bus_model(tmp_path: Path) -> None:
    from meterbench.kinds.electricity.simulator import SimulatedBench

    repo = Path(__file__).resolve().parents[2]
    text = (repo / "bench_configs" / "sim-1p-24.toml").read_text(encoding="utf-8")
    text = text.replace(
        'url = "sim://bus/M1"', 'url = "sim://bus/M1"\nadapter_latency_s = 0.016', 1
    ).replace("[sim]\n", "[sim]\npace_buses = true\n", 1)
    text = text.replace('lab = "labs/', f'lab = "{repo / "bench_configs" / "labs"}/', 1)
    path = tmp_path / "bench.toml"
    path.write_text(text, encoding="utf-8")
    (tmp_path / "meter_types").symlink_to(repo / "bench_configs" / "meter_types")
    bench = SimulatedBench.from_file(path)
    try:
        bench._build_buses()
        m1, m2 = bench.buses["M1"].line, bench.buses["M2"].line
    finally:
        import shutil

        shutil.rmtree(bench.workdir, ignore_errors=True)
    assert (m1.pace, m1.latency_s, m1.char_bits) == (True, 0.016, 11)
    assert (m2.pace, m2.latency_s) == (True, 0.0)
