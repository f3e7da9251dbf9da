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


def _strict_json(line: str) -> dict[str, object]:
    def refuse(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    return json.loads(line, parse_constant=refuse)


def test_json_output_stays_json_for_non_finite_numbers() -> None:
    """A 698 float64 NaN (or infinity) is null in the JSON plus a warning naming the field."""
    from meterproto.dlt698 import apdu as ap
    from meterproto.dlt698 import frame as df

    nan = ap.get_response_normal("200f0200", ap.Data(0x18, float("nan")))
    inf = ap.get_response_normal("200f0200", ap.Data(0x18, float("-inf")))
    frames = [df.encode_frame(b"\x01" * 6, 0xC3, apdu, preamble=0).hex() for apdu in (nan, inf)]
    result = run("--json", *frames)
    assert result.returncode == 0, result.stderr
    for line in result.stdout.splitlines():
        decoded = _strict_json(line)
        assert decoded["value"] is None
        assert "value" in str(decoded["warnings"])


def test_write_data_hex_is_the_frame_data_unmasked() -> None:
    """``data_hex`` is the DATA as hex for 1997 and 2007 writes alike; masking passwords is
    the job of traces and logs, not of a decoder a person feeds their own frame."""
    from meterproto.dlt645 import messages as msg
    from meterproto.dlt645.frame import encode_frame

    password = msg.Password(2, "123456")
    w97 = msg.write_1997("000000000001", 0xC011, b"\x00\x00\x12", password)
    w07 = msg.write("000000000001", 0x04000102, b"\x00\x00\x12", password, 0)
    for frame in (w97, w07):
        wire = encode_frame(frame.address, frame.control, frame.data, 0)
        decoded = _strict_json(run("--json", wire.hex()).stdout)
        assert decoded["data_hex"] == frame.data.hex()
        bytes.fromhex(str(decoded["data_hex"]))


def test_the_edition_can_be_given_when_the_function_code_cannot_tell() -> None:
    """83H with DI + value: the guess says 2007 (security), a 1997 re-read reply it is."""
    from meterproto.dlt645.frame import encode_frame

    wire = encode_frame(b"\x01\x00\x00\x00\x00\x00", 0x83, b"\x10\x90\x42\x06\x12\x00", 0).hex()
    decoded = _strict_json(run("--json", "--protocol", "dlt645-1997", wire).stdout)
    assert decoded["protocol"] == "dlt645-1997"
    assert (decoded["di"], decoded["value"]) == ("9010", 1206.42)
    guessed = _strict_json(run("--json", wire).stdout)
    assert guessed["protocol"] == "dlt645-2007"
