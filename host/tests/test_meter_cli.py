"""``meterbench meter ...`` against ``meterbench sim meter``, both through the installed console
command as an operator runs them: values, JSON, traces with masked passwords, and one-line
errors with distinct exit codes for a bad port, a timeout, a refusal and bad arguments."""

from __future__ import annotations

import json
import os
import select
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

ADDRESS = "230715000042"


def _meterbench() -> str:
    exe = Path(sys.executable).with_name("meterbench")
    if exe.exists():
        return str(exe)
    found = shutil.which("meterbench")
    assert found, "the meterbench console command is not installed (pip install -e .)"
    return found


def meterbench(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [_meterbench(), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def _start_sim(*args: str) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [_meterbench(), "sim", "meter", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 20)
    if not ready:
        proc.kill()
        pytest.fail("the simulator did not print its port")
    return proc, proc.stdout.readline().strip()


def _stop_sim(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()


@pytest.fixture(scope="module")
def pty_sim() -> Iterator[str]:
    proc, path = _start_sim(
        "--pty",
        "--address",
        ADDRESS,
        "--energy",
        "1234.56",
        "--delay",
        "0.02",
        "--password",
        "02:314159",
    )
    try:
        assert path.startswith("/dev/")
        yield path
    finally:
        _stop_sim(proc)


def _one_line_error(result: subprocess.CompletedProcess[str], code: int) -> str:
    assert result.returncode == code, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    return lines[0]


def test_read_prints_name_value_and_unit(pty_sim: str) -> None:
    result = meterbench(
        "meter", "read", "--port", pty_sim, "--address", ADDRESS, "00010000", "02010100", "04000409"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "00010000  forward active energy, total: 1234.56 kWh",
        "02010100  voltage, phase A: 220.0 V",
        "04000409  active meter constant: 1200 imp/kWh",
    ]


def test_read_json_and_trace(pty_sim: str) -> None:
    result = meterbench(
        "meter",
        "read",
        "--port",
        pty_sim,
        "--baud",
        "2400",
        "--parity",
        "E",
        "--address",
        ADDRESS,
        "00010000",
        "0201FF00",
        "--json",
        "--trace",
    )
    assert result.returncode == 0, result.stderr
    objects = [json.loads(line) for line in result.stdout.splitlines()]
    assert objects[0] == {
        "di": "00010000",
        "name": "forward active energy, total",
        "value": 1234.56,
        "unit": "kWh",
        "raw_hex": "56341200",
    }
    assert objects[1]["value"] == [220.0, 220.0, 220.0]
    tx = [line for line in result.stderr.splitlines() if " TX " in line]
    rx = [line for line in result.stderr.splitlines() if " RX " in line]
    assert len(tx) == 2 and len(rx) == 2
    assert "68 42 00 00 15 07 23 68 11 04 33 33 34 33" in tx[0]


def test_address_and_scan(pty_sim: str) -> None:
    result = meterbench("meter", "address", "--port", pty_sim)
    assert (result.returncode, result.stdout.strip()) == (0, ADDRESS), result.stderr
    scan = meterbench(
        "meter",
        "scan",
        "--port",
        pty_sim,
        "--retries",
        "0",
        "--range",
        "230715000041-230715000042",
        "--json",
    )
    assert scan.returncode == 0, scan.stderr
    assert [json.loads(line) for line in scan.stdout.splitlines()] == [{"address": ADDRESS}]
    assert "1 of 2" in scan.stderr


def test_set_time_with_a_password_from_the_environment(pty_sim: str) -> None:
    result = meterbench(
        "meter",
        "set-time",
        "--port",
        pty_sim,
        "--time",
        "2025-03-14T09:26:53",
        "--trace",
        env={"METERBENCH_METER_PASSWORD": "02:314159"},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"meter {ADDRESS}: clock set to 2025-03-14 09:26:53"
    assert "314159" not in result.stdout + result.stderr and "**" in result.stderr
    check = meterbench("meter", "read", "--port", pty_sim, "--address", ADDRESS, "04000101")
    assert "2025-03-14" in check.stdout
    broadcast = meterbench("meter", "set-time", "--port", pty_sim, "--broadcast")
    assert broadcast.returncode == 0 and "do not reply" in broadcast.stdout


def test_errors_are_one_line_with_distinct_exit_codes(pty_sim: str) -> None:
    refused = meterbench(
        "meter", "set-time", "--port", pty_sim, "--address", ADDRESS, "--password", "02:271828"
    )
    line = _one_line_error(refused, 5)
    assert "password wrong" in line and "271828" not in refused.stdout + refused.stderr
    timeout = meterbench(
        "meter",
        "read",
        "--port",
        pty_sim,
        "--address",
        "230715000043",
        "--retries",
        "0",
        "00010000",
    )
    assert "no reply" in _one_line_error(timeout, 4)
    # a known identifier this meter does not keep: the meter's own error reply
    unknown = meterbench("meter", "read", "--port", pty_sim, "--address", ADDRESS, "0280000A")
    assert "no requested data" in _one_line_error(unknown, 5)
    # an identifier nobody defines is refused before the port is opened
    unheard = meterbench("meter", "read", "--port", pty_sim, "--address", ADDRESS, "02800099")
    assert "02800099" in _one_line_error(unheard, 2)
    assert "cannot open" in _one_line_error(
        meterbench("meter", "address", "--port", "/dev/no-such-adapter"), 3
    )
    assert "hex digits" in _one_line_error(
        meterbench("meter", "read", "--port", pty_sim, "0001000"), 2
    )
    assert "address" in _one_line_error(
        meterbench("meter", "read", "--port", pty_sim, "--address", "12x", "00010000"), 2
    )
    assert "password" in _one_line_error(
        meterbench("meter", "set-time", "--port", pty_sim, "--address", ADDRESS), 2
    )


def test_sim_meter_on_tcp_and_its_argument_errors() -> None:
    proc, url = _start_sim(
        "--listen",
        "127.0.0.1:0",
        "--address",
        "000000000007",
        "--count",
        "2",
        "--energy",
        "5",
        "--delay",
        "0.02",
    )
    try:
        assert url.startswith("socket://127.0.0.1:")
        result = meterbench(
            "meter", "read", "--port", url, "--address", "000000000008", "00010000", "--json"
        )
        assert json.loads(result.stdout)["value"] == 5.0, result.stderr
    finally:
        _stop_sim(proc)
    both = meterbench("sim", "meter", "--pty", "--listen", "127.0.0.1:0")
    assert "exactly one" in _one_line_error(both, 2)
    fault = meterbench("sim", "meter", "--pty", "--fault", "sneeze")
    assert "unknown fault" in _one_line_error(fault, 2)


def test_dlt698_read_against_the_simulated_698_meter() -> None:
    """``meter read --protocol dlt698`` against ``sim meter --protocol dlt698`` on a pty."""
    proc, path = _start_sim(
        "--protocol", "dlt698", "--pty", "--address", ADDRESS, "--energy", "1234.56",
        "--baud", "9600", "--delay", "0.02",
    )  # fmt: skip
    try:
        assert path.startswith("/dev/")
        base = ("meter", "read", "--protocol", "dlt698", "--port", path, "--baud", "9600")
        result = meterbench(*base, "--address", ADDRESS, "00100200", "00100201", "20000202")
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == [
            "00100200  forward active energy: 1234.56, 1234.56, 0.00, 0.00, 0.00 kWh",
            "00100201  forward active energy [total]: 1234.56 kWh",
            "20000202  voltage [B]: 220.0 V",
        ]
        result = meterbench(*base, "00100201", "40000200", "40010200", "--json")  # wildcard
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        assert [(x["oad"], x["unit"]) for x in lines] == [
            ("00100201", "kWh"),
            ("40000200", ""),
            ("40010200", ""),
        ]
        assert lines[0]["value"] == 1234.56 and lines[2]["value"] == ADDRESS
        assert lines[1]["data_type"] == "date_time_s" and lines[1]["value"][:2] == "20"
        refused = _one_line_error(meterbench(*base, "99990200"), 5)
        assert "DAR 4 (object undefined)" in refused
        assert "8 hex digits" in _one_line_error(meterbench(*base, "0010020"), 2)
        assert "--protocol" in _one_line_error(
            meterbench("meter", "read", "--protocol", "dlt699", "--port", path, "00100200"), 2
        )
    finally:
        _stop_sim(proc)
