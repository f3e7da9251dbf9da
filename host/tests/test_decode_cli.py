"""``meterbench decode`` through the installed console command, as an operator runs it."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from meterproto import link

VECTORS = Path(__file__).resolve().parents[2].parent / "shared" / "vectors" / "frames.json"


def _meterbench() -> list[str]:
    exe = Path(sys.executable).with_name("meterbench")
    if exe.exists():
        return [str(exe)]
    found = shutil.which("meterbench")
    assert found, "the meterbench console command is not installed (pip install -e .)"
    return [found]


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*_meterbench(), "decode", *args], input=stdin, capture_output=True, text=True, timeout=60
    )


def test_every_golden_vector_through_the_command_json() -> None:
    frames = json.loads(VECTORS.read_text(encoding="utf-8"))["frames"]
    result = run("--json", stdin="\n".join(f["hex"] for f in frames) + "\n")
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(lines) == len(frames)
    for vector, decoded in zip(frames, lines, strict=True):
        assert decoded["valid"] is True
        assert decoded["protocol"] == vector["protocol"]
        for key in ("address", "control", "function", "direction", "data_hex"):
            if key in vector["expect"]:
                assert decoded[key] == vector["expect"][key], (vector["id"], key)


def test_invalid_frame_exit_status_and_error_message() -> None:
    good = "68 42 00 00 15 07 23 68 11 04 33 34 34 35 36 16"
    bad = "68 42 00 00 15 07 23 68 11 04 33 34 34 35 37 16"
    result = run("--json", good.replace(" ", ""), bad.replace(" ", ""))
    assert result.returncode == 1
    first, second = (json.loads(line) for line in result.stdout.splitlines())
    assert first["valid"] and first["di"] == "02010100" and first["name"] == "voltage, phase A"
    assert not second["valid"] and "checksum mismatch" in second["error"]


def test_table_output_and_forced_protocol() -> None:
    result = run("--protocol", "dlt645", "6825040302010068910833333433753945338b16")
    assert result.returncode == 0
    assert "forward active energy, total" in result.stdout and "1206.42" in result.stdout
    forced = run("--protocol", "cjt188", "6825040302010068910833333433753945338b16")
    assert forced.returncode == 1


@pytest.mark.parametrize("text", ["zz", "123", ""])
def test_bad_hex_is_a_clear_error(text: str) -> None:
    result = run("--json", text) if text else run("--json", stdin="\n")
    assert result.returncode == 1
    if text:
        assert "not hex" in json.loads(result.stdout)["error"]


def test_link_frames_decode_with_field_names() -> None:
    wire = link.encode(link.HELLO, 9, protocol=link.PROTOCOL_VERSION, host_caps=0, heartbeat_ms=500)
    result = run("--json", wire.hex())
    decoded = json.loads(result.stdout)
    assert result.returncode == 0
    assert decoded["protocol"] == "link" and decoded["name"] == "HELLO"
    assert decoded["fields"]["heartbeat_ms"] == 500 and decoded["seq"] == 9


def test_unknown_protocol_option_is_rejected() -> None:
    result = run("--protocol", "modbus", "00")
    assert result.returncode != 0 and "modbus" not in result.stdout


def test_a_heat_meter_reply_decodes_to_every_field() -> None:
    # public capture (ioBroker.sanext adapter, main.js): CJ/T 188 heat meter 20H, 901F reply
    sanext = (
        "FEFE682013470612007400812E1F90000000000005000000000500000000170000000035000000002C"
        "022300112300345800094912050923200008F016"
    )
    result = run("--json", "--protocol", "cjt188", sanext)
    assert result.returncode == 0, result.stdout + result.stderr
    decoded = json.loads(result.stdout)
    assert decoded["meter_type_name"] == "heat (heating)"
    assert (decoded["supply_c"], decoded["return_c"]) == (23.02, 23.11)
    assert decoded["working_hours"] == 5834 and decoded["datetime"] == "2023-09-05T12:49:09"
    assert (decoded["heat"], decoded["heat_unit"], decoded["volume_unit"]) == (0.0, "kWh", "m3")
