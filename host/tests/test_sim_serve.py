"""``meterbench sim serve`` starts a simulated bench standalone; other programs reach its
devices through the printed ports with the ordinary commands."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench_configs" / "sim-1p-24.toml"
METERBENCH = str(Path(sys.executable).with_name("meterbench"))


def test_serve_prints_ports_that_the_meter_commands_can_use() -> None:
    server = subprocess.Popen(
        [METERBENCH, "sim", "serve", "--bench", str(BENCH), "--json", "--seconds", "60"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert server.stdout is not None
        info = json.loads(server.stdout.readline())
        bus = info["endpoints"]["bus M1"]
        address = info["meters"]["3"]["address"]
        read = subprocess.run(
            [
                METERBENCH,
                "meter",
                "read",
                "--port",
                bus,
                "--address",
                address,
                "04000401",
                "04000409",
                "--json",
            ],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert read.returncode == 0, read.stderr
        values = [json.loads(line) for line in read.stdout.splitlines() if line.strip()]
        flat = values[0] if isinstance(values[0], list) else values
        by_di = {item["di"]: item["value"] for item in flat}
        assert by_di["04000401"] == address
        assert by_di["04000409"] == 1200
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert server.returncode == 0


def test_serve_names_a_bad_bench_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(BENCH.read_text().split("\n[sim]\n")[0])
    result = subprocess.run(
        [METERBENCH, "sim", "serve", "--bench", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "bad.toml" in result.stderr and "[sim]" in result.stderr
