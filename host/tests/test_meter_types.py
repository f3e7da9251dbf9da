"""Meter-type files: the shipped examples load, and every bad file names the file and the field."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from meterbench.config.errors import ConfigError
from meterbench.config.meter_types import (
    ElectricityMeterType,
    WaterMeterType,
    load_meter_type,
    load_meter_types,
)

REPO = Path(__file__).resolve().parents[2]
TYPES = REPO / "bench_configs" / "meter_types"

GOOD_1P = """
kind = "electricity"
class = "2"
connection = "direct"
wiring = "1p"
un_v = 220
ib_a = 5
imax_a = 60
constant_imp_per_kwh = 1200
"""


def test_example_types_load():
    types = load_meter_types(TYPES)
    assert set(types) == {
        "1p-class2-5-60a",
        "1p-class2-5-60a-bidirectional",
        "1p-class1-5-60a",
        "1p-class1-5-60a-tou",
        "1p-class1-10-100a",
        "1p-class2-5-60a-dlt645-1997",
        "3p4w-class1-5-60a-dlt645-1997",
        "3p4w-class0.5s-ct-1.5-6a",
        "3p4w-class1-5-60a",
        "1p-class1-5-60a-dlt698",
        "1p-class2-5-60a-dlt698",
        "3p4w-class1-5-60a-dlt698",
        "water-dn15-q3-2.5-r160",
        "water-dn15-q3-2.5-r160-photo",
        "water-dn15-q3-2.5-r160-e",
        "heat-dn20-qp1.5-class2",
        "gas-g2.5-class1.5",
        "gas-g4-class1.5",
    }
    sp = types["1p-class2-5-60a"]
    assert isinstance(sp, ElectricityMeterType)
    assert (sp.meter_class, sp.connection, sp.wiring, sp.protocol) == (
        "2",
        "direct",
        "1p",
        "dlt645-2007",
    )
    assert (sp.un_v, sp.base_current_a, sp.imax_a, sp.constant_imp_per_kwh) == (220, 5, 60, 1200)
    assert sp.clock and sp.tariffs == 4 and sp.rating == "5(60)A"
    assert sp.base_current_name == "Ib"
    assert {types[t].protocol for t in types if t.endswith("-dlt698")} == {"dlt698"}
    ct = types["3p4w-class0.5s-ct-1.5-6a"]
    assert isinstance(ct, ElectricityMeterType)
    assert ct.meter_class == "0.5S" and ct.connection == "ct" and ct.base_current_name == "In"
    assert ct.un_v == Decimal("57.7") and ct.in_a == Decimal("1.5") and ct.imax_a == 6
    assert ct.constant_imp_per_kwh == 6400
    three = types["3p4w-class1-5-60a"]
    assert isinstance(three, ElectricityMeterType)
    assert three.wiring == "3p4w" and three.meter_class == "1" and three.un_v == 220
    one = types["1p-class1-10-100a"]
    assert isinstance(one, ElectricityMeterType)
    assert (one.ib_a, one.imax_a, one.clock, one.protocol) == (10, 100, False, "dlt645-1997")
    water = types["water-dn15-q3-2.5-r160"]
    assert isinstance(water, WaterMeterType)
    assert (water.q3_m3h, water.ratio, water.dn, water.meter_class) == (
        Decimal("2.5"),
        160,
        15,
        "2",
    )
    assert water.scale_interval_l == Decimal("0.05") and water.pulse_volume_l is None
    assert water.source_path and water.source_path.endswith("water-dn15-q3-2.5-r160.toml")


def test_id_defaults_to_file_name_and_class_is_normalised(tmp_path):
    path = tmp_path / "my-meter.toml"
    path.write_text(GOOD_1P.replace('class = "2"', "class = 2.0"), encoding="utf-8")
    meter = load_meter_type(path)
    assert meter.id == "my-meter" and meter.meter_class == "2"
    assert isinstance(meter, ElectricityMeterType)
    assert meter.current_rating().imax == 60


def test_error_names_file_and_field_relative_to_the_working_directory(tmp_path, monkeypatch):
    folder = tmp_path / "bench_configs" / "meter_types"
    folder.mkdir(parents=True)
    (folder / "x.toml").write_text(GOOD_1P.replace("imax_a = 60", "imax_a = 5"), "utf-8")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError) as info:
        load_meter_type("bench_configs/meter_types/x.toml")
    assert str(info.value) == (
        "bench_configs/meter_types/x.toml: field 'imax_a': must be greater than ib_a"
    )
    with pytest.raises(ConfigError) as info:
        load_meter_type(tmp_path / "bench_configs" / "meter_types" / "x.toml")  # absolute
    assert str(info.value).startswith("bench_configs/meter_types/x.toml: field 'imax_a'")


BAD = [
    # (change to GOOD_1P, field, part of the message)
    (("imax_a = 60", "imax_a = 4"), "imax_a", "must be greater than ib_a"),
    (("ib_a = 5\n", ""), "ib_a", "required for connection = 'direct'"),
    (("ib_a = 5", "ib_a = 5\nin_a = 5"), "in_a", "not in_a"),
    (('connection = "direct"', 'connection = "ct"'), "ib_a", "give in_a, not ib_a"),
    (('connection = "direct"', 'connection = "dirct"'), "connection", "'direct' or 'ct'"),
    (('wiring = "1p"', 'wiring = "2p"'), "wiring", "'1p', '3p4w' or '3p3w'"),
    (('class = "2"', 'class = "2x"'), "class", "not an accuracy class"),
    (('class = "2"\n', ""), "class", "required field is missing"),
    (("un_v = 220", "un_v = -220"), "un_v", "greater than 0"),
    (("un_v = 220", 'un_v = "abc"'), "un_v", "decimal"),
    (("imax_a = 60", "imax = 60"), "imax", "unknown field (did you mean 'imax_a'?)"),
    (("constant_imp_per_kwh = 1200", "constant_imp_per_kwh = 0"), "constant_imp_per_kwh", "than 0"),
    (("ib_a = 5", 'ib_a = 5\nprotocol = "cjt188"'), "protocol", "water/gas/heat"),
    (("ib_a = 5", 'ib_a = 5\nprotocol = "modbus"'), "protocol", "dlt645-2007"),
    (("ib_a = 5", 'ib_a = 5\nrating = "5(80)A"'), "rating", "Imax = 80 A but imax_a = 60"),
    (("ib_a = 5", 'ib_a = 5\nrating = "10(60)A"'), "rating", "says 10 A but ib_a = 5"),
    (("ib_a = 5", 'ib_a = 5\nrating = "five amps"'), "rating", "write it like"),
    (("ib_a = 5", 'ib_a = 5\nrating = "3x5(60)A"'), "rating", "three-phase wiring"),
    (("ib_a = 5", 'ib_a = 5\nvoltage_rating = "230V"'), "un_v", "phase voltage"),
    (("ib_a = 5", 'ib_a = 5\nvoltage_rating = "3x220/380V"'), "voltage_rating", "wiring '1p'"),
    (("ib_a = 5", "ib_a = 5\ntariffs = 0"), "tariffs", "greater than or equal to 1"),
    (("ib_a = 5", 'ib_a = 5\ntariffs = 2\ntariff_names = ["a"]'), "tariff_names", "names 1"),
    (("ib_a = 5", "ib_a = 5\nclock = 3"), "clock", "boolean"),
]


@pytest.mark.parametrize(("change", "field", "message"), BAD)
def test_bad_meter_type_names_the_field(tmp_path, change, field, message):
    text = GOOD_1P.replace(*change)
    assert text != GOOD_1P
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_meter_type(path)
    fields = [issue.field for issue in info.value.issues]
    assert field in fields, str(info.value)
    issue = info.value.issues[fields.index(field)]
    assert message in issue.message, issue.message
    assert str(path.name) in str(info.value)
    assert f"field '{field}'" in str(info.value)


def test_three_wire_un_is_the_line_voltage(tmp_path):
    text = (
        GOOD_1P.replace('wiring = "1p"', 'wiring = "3p3w"')
        .replace('connection = "direct"', 'connection = "ct"')
        .replace("ib_a = 5", "in_a = 1.5")
        .replace("imax_a = 60", "imax_a = 6")
        .replace("un_v = 220", "un_v = 100")
        + 'voltage_rating = "3x100V"\nrating = "3x1.5(6)A"\n'
    )
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    meter = load_meter_type(path)
    assert isinstance(meter, ElectricityMeterType) and meter.base_current_a == Decimal("1.5")
    path.write_text(text.replace("un_v = 100", "un_v = 57.7"), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_meter_type(path)
    assert info.value.field == "un_v" and "line voltage" in info.value.message


def test_ir46_rating_string(tmp_path):
    text = GOOD_1P + 'itr_a = 0.5\nimin_a = 0.25\nrating = "0.25-0.5(60)A"\n'
    path = tmp_path / "m.toml"
    path.write_text(text, encoding="utf-8")
    meter = load_meter_type(path)
    assert isinstance(meter, ElectricityMeterType)
    assert meter.current_rating().itr == Decimal("0.5")
    path.write_text(text.replace('"0.25-0.5(60)A"', '"0.25-1(60)A"'), encoding="utf-8")
    with pytest.raises(ConfigError, match="Itr = 1 A"):
        load_meter_type(path)


WATER = """
kind = "water"
class = "2"
q3_m3h = 2.5
r = { H = 160, V = 80 }
orientation = "V"
dn = 15
scale_interval_l = 0.05
"""


def test_water_type_orientation_and_pulse_value(tmp_path):
    path = tmp_path / "w.toml"
    path.write_text(WATER + "pulse_value_l = 0.1\nconstant_imp_per_l = 10\n", encoding="utf-8")
    meter = load_meter_type(path)
    assert isinstance(meter, WaterMeterType)
    assert meter.ratio == 80 and meter.pulse_volume_l == Decimal("0.1")
    path.write_text(WATER.replace("\nkind", "\n#kind") + "constant_imp_per_l = 4\n", "utf-8")
    inferred = load_meter_type(path)
    assert isinstance(inferred, WaterMeterType) and inferred.pulse_volume_l == Decimal("0.25")


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        (("r = { H = 160, V = 80 }", "r = { H = 160 }"), "r", "orientation 'V'"),
        (('class = "2"', 'class = "0.5S"'), "class", "'1' or '2'"),
        (("dn = 15", "dn = 0"), "dn", "greater than 0"),
        (("scale_interval_l = 0.05", ""), "scale_interval_l", "required"),
        (
            ("dn = 15", "dn = 15\npulse_value_l = 0.1\nconstant_imp_per_l = 5"),
            "constant_imp_per_l",
            "1 / pulse_value_l",
        ),
        (("dn = 15", 'dn = 15\nprotocol = "dlt645-2007"'), "protocol", "'cjt188' or 'none'"),
        (("dn = 15", 'dn = 15\ntemperature_class = "hot"'), "temperature_class", "pattern"),
    ],
)
def test_bad_water_type_names_the_field(tmp_path, change, field, message):
    text = WATER.replace(*change)
    assert text != WATER
    path = tmp_path / "w.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_meter_type(path)
    fields = [issue.field for issue in info.value.issues]
    assert field in fields, str(info.value)
    assert message in info.value.issues[fields.index(field)].message


def test_file_level_errors(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_meter_type(tmp_path / "missing.toml")
    assert info.value.field is None and info.value.message == "file not found"
    broken = tmp_path / "broken.toml"
    broken.write_text("class = \n", encoding="utf-8")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_meter_type(broken)
    wrong_kind = tmp_path / "steam.toml"
    wrong_kind.write_text('kind = "steam"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_meter_type(wrong_kind)
    assert info.value.field == "kind"


def test_every_problem_is_reported_at_once(tmp_path):
    path = tmp_path / "many.toml"
    path.write_text(GOOD_1P.replace("un_v = 220", "un_v = 0").replace("wiring", "wireing"), "utf-8")
    with pytest.raises(ConfigError) as info:
        load_meter_type(path)
    fields = {issue.field for issue in info.value.issues}
    assert {"un_v", "wiring", "wireing"} <= fields
    assert len(str(info.value).splitlines()) == len(info.value.issues)


def test_duplicate_ids_in_a_folder(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD_1P + 'id = "same"\n', encoding="utf-8")
    (tmp_path / "b.toml").write_text(GOOD_1P + 'id = "same"\n', encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_meter_types(tmp_path)
    assert info.value.field == "id" and "b.toml" in info.value.path


def test_plain_message_config_error_stays_as_given():
    assert str(ConfigError("x.toml: file not found")) == "x.toml: file not found"


def test_tariff_periods_name_tariffs_the_meter_has_and_say_which_applies():
    tou = load_meter_types(TYPES)["1p-class1-5-60a-tou"]
    assert isinstance(tou, ElectricityMeterType)
    assert [tou.tariff_at(m) for m in (0, 7 * 60 + 59, 8 * 60, 23 * 60)] == [4, 4, 2, 4]
    data = tou.model_dump(by_alias=True)
    bad = {**data, "tariff_periods": [{"start": "08:00", "tariff": 5}]}
    with pytest.raises(ValueError, match="tariff 5 but the meter has 4"):
        ElectricityMeterType.model_validate(bad)
    twice = {**data, "tariff_periods": [{"start": "08:00", "tariff": 1}] * 2}
    with pytest.raises(ValueError, match="same time"):
        ElectricityMeterType.model_validate(twice)
