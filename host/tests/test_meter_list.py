"""Meter lists as operators write them: Excel's encodings, duplicates, addresses, size."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import SimpleNamespace

import pytest

from meterbench.config.bench import load_bench
from meterbench.config.errors import ConfigError
from meterbench.runner.meters import check_meters_against_bench, load_meters

BENCHES = Path(__file__).parent / "benches"
BENCH = BENCHES / "runner-1p-8.toml"
TYPE = "1p-class2-5-60a"
HEADER = "position,type,serial,asset,address,customer\n"


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    shutil.copytree(BENCHES / "meter_types", tmp_path / "meter_types")
    return tmp_path


def _rows(n: int, customer: str = "") -> str:
    return "".join(
        f"{p},{TYPE},S{p:06d},A{p:06d},{100000000000 + p},{customer}\n" for p in range(1, n + 1)
    )


def _write(folder: Path, data: bytes) -> Path:
    path = folder / "meters.csv"
    path.write_bytes(data)
    return path


def test_utf8_with_a_byte_order_mark_as_excel_saves_it(folder: Path) -> None:
    path = _write(folder, (HEADER + _rows(3, "供电公司")).encode("utf-8-sig"))
    meters = load_meters(path)
    assert [m.position for m in meters] == [1, 2, 3]
    assert meters[0].customer == "供电公司"


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_chinese_excel_csv(folder: Path, encoding: str) -> None:
    path = _write(folder, (HEADER + _rows(2, "国网某某供电公司计量中心")).encode(encoding))
    meters = load_meters(path)
    assert meters[1].customer == "国网某某供电公司计量中心"
    assert meters[1].address == "100000000002"


def test_neither_utf8_nor_gbk_is_one_line_naming_the_file(folder: Path) -> None:
    path = _write(folder, HEADER.encode() + b"1,\x80\xff\xfe,S1,,100000000001,\n")
    with pytest.raises(ConfigError) as caught:
        load_meters(path)
    text = str(caught.value)
    assert "meters.csv" in text and "UTF-8" in text and "\n" not in text


@pytest.mark.parametrize(
    "address",
    ["10000000001", "1000000000012", "10000000000A", "１００００００００００１", "1000 0000 001"],
)
def test_an_address_that_is_not_12_bcd_digits_names_the_row(folder: Path, address: str) -> None:
    body = HEADER + _rows(2) + f"3,{TYPE},S3,,{address},\n"
    with pytest.raises(ConfigError) as caught:
        load_meters(_write(folder, body.encode()))
    assert caught.value.field == "row 4.address"
    assert "12 BCD digits" in str(caught.value)


def test_two_meters_with_one_address_on_one_bus(folder: Path) -> None:
    body = HEADER + _rows(3) + f"4,{TYPE},S4,,100000000002,\n"
    path = _write(folder, body.encode())
    meters = load_meters(path)  # the list alone cannot know the buses
    with pytest.raises(ConfigError) as caught:
        check_meters_against_bench(load_bench(BENCH), meters, path)
    assert caught.value.field == "row 5.address"
    assert "position 2 (row 3)" in str(caught.value) and "bus M1" in str(caught.value)


def test_one_address_on_two_buses_is_fine(folder: Path) -> None:
    body = HEADER + f"1,{TYPE},S1,,100000000001,\n2,{TYPE},S2,,100000000001,\n"
    path = _write(folder, body.encode())
    meters = load_meters(path)
    wiring = [SimpleNamespace(number=1, bus="M1"), SimpleNamespace(number=2, bus="M2")]
    check_meters_against_bench(SimpleNamespace(positions=wiring), meters, path)


def test_a_large_list_is_read_whole(folder: Path) -> None:
    """40 000 rows (a utility's annual batch file): each one read, every duplicate check run."""
    n = 40_000
    meters = load_meters(_write(folder, (HEADER + _rows(n)).encode("utf-8-sig")))
    assert len(meters) == n and meters[-1].serial == f"S{n:06d}"
    body = HEADER + _rows(n) + f"{n + 1},{TYPE},S000007,,100000099999,\n"
    with pytest.raises(ConfigError, match="S000007"):
        load_meters(_write(folder, body.encode()))
