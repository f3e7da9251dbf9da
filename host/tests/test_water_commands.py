"""The commands that open a bench work on a water bench as on an electricity one: the
self-test checks its controllers, its Modbus line, balance and valve, and its CJ/T 188 ports;
``sim serve`` starts it and prints its ports, which other programs can open."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path

from meterbench.devices.cjt188_client import Cjt188Client
from meterbench.transport.bus import Bus
from meterbench.transport.settings import SerialSettings

BENCH = Path(__file__).resolve().parents[2] / "bench_configs" / "sim-water-10.toml"
METERBENCH = str(Path(sys.executable).with_name("meterbench"))


def test_selftest_of_the_water_bench_passes_with_its_own_checks() -> None:
    result = subprocess.run(
        [METERBENCH, "selftest", "--bench", str(BENCH), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    kinds = {c["kind"] for c in report["checks"]}
    assert {"controller", "water", "meter_port"} <= kinds and "source" not in kinds
    ports = {c["position"]: c for c in report["checks"] if c["kind"] == "meter_port"}
    assert [p for p, c in ports.items() if c["passed"]] == [7, 8, 9, 10]  # the CJ/T 188 meters
    assert all(ports[p]["passed"] is None for p in range(1, 7))  # photo-read: no port
    (water,) = (c for c in report["checks"] if c["kind"] == "water")
    assert "balance" in water["detail"] and "start valve closed" in water["detail"]


def test_sim_serve_starts_the_water_bench_and_its_meters_answer() -> None:
    server = subprocess.Popen(
        [METERBENCH, "sim", "serve", "--bench", str(BENCH), "--json", "--seconds", "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        assert set(info["endpoints"]) == {"controller C1", "bus W1", "water.modbus", "water.scale"}
        assert sorted(info["meters"], key=int) == ["7", "8", "9", "10"]

        async def read() -> str:
            bus = Bus(info["endpoints"]["bus W1"], SerialSettings(2400, "E"))
            await bus.open()
            try:
                client = Cjt188Client(bus, info["meters"]["8"]["address"])
                return (await client.read_volume()).address
            finally:
                await bus.close()

        assert asyncio.run(asyncio.wait_for(read(), 60)) == info["meters"]["8"]["address"]
    finally:
        server.terminate()
        server.wait(timeout=60)
