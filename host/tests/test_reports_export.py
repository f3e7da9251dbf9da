"""CSV and JSON exports: one row per reading and one per conclusion, valid against the
documented schema; the exporter interface takes other destinations."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from meterbench.reports import (
    CSV_COLUMNS,
    CsvFileExporter,
    Exporter,
    JsonFileExporter,
    RunExport,
    load_context,
    run_export,
    schema,
)
from meterbench.results import ResultsStore

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import RUN_A, RUN_OPEN, RUN_X, build_database  # noqa: E402


@pytest.fixture(scope="module")
def contexts(tmp_path_factory):
    path = build_database(tmp_path_factory.mktemp("export") / "results.db")
    with ResultsStore.open(path, create=False) as store:
        return {run: load_context(store, run, "en") for run in (RUN_A, RUN_OPEN, RUN_X)}


def test_schema_is_a_valid_schema():
    Draft202012Validator.check_schema(schema())


@pytest.mark.parametrize("run_id", [RUN_A, RUN_OPEN, RUN_X])
def test_json_export_validates_and_counts_rows(contexts, run_id, tmp_path):
    ctx = contexts[run_id]
    path = JsonFileExporter(tmp_path).write(run_export(ctx))
    document = json.loads(path.read_text("utf-8"))
    errors = sorted(Draft202012Validator(schema()).iter_errors(document), key=str)
    assert not errors, [f"{list(e.absolute_path)}: {e.message}" for e in errors[:5]]
    kinds = [row["row_type"] for row in document["rows"]]
    assert kinds.count("reading") == len(ctx.record.readings)
    assert kinds.count("conclusion") == len(ctx.record.conclusions)
    assert document["integrity"]["final_hash"] == ctx.integrity.final_hash


def test_values_are_exact_text(contexts):
    rows = run_export(contexts[RUN_A]).rows
    readings = [r["value"] for r in rows if r["row_type"] == "reading" and r["unit"] == "%"]
    assert readings == ["0.14", "0.16", "-0.35", "-0.25"]
    mpe = [
        r
        for r in rows
        if r["row_type"] == "conclusion" and r["limit_kind"] == "mpe" and r["item"] == "basic_error"
    ]
    assert [(r["mean"], r["rounded"], r["lower"], r["upper"]) for r in mpe] == [
        ("0.15", "0.2", "-2.0", "2.0"),
        ("-0.30", "-0.4", "-2.0", "2.0"),
    ]


def test_csv_has_the_documented_columns_and_one_row_each(contexts, tmp_path):
    ctx = contexts[RUN_X]
    path = CsvFileExporter(tmp_path).write(run_export(ctx))
    raw = path.read_bytes()
    assert raw.startswith("\ufeff".encode())  # spreadsheets read UTF-8 Chinese right
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert tuple(rows[0].keys()) == CSV_COLUMNS == tuple(schema()["x-csv-columns"])
    assert sum(r["row_type"] == "reading" for r in rows) == len(ctx.record.readings)
    assert sum(r["row_type"] == "conclusion" for r in rows) == len(ctx.record.conclusions)
    invalid = next(r for r in rows if r["status"] == "invalid")
    assert invalid["value"] == "" and json.loads(invalid["raw"]) == {"N": 0, "m": 0}
    assert {r["final_hash"] for r in rows} == {ctx.integrity.final_hash}


def test_one_meter(contexts):
    ctx = contexts[RUN_A]
    data = run_export(ctx, ctx.meter("SN0002"))
    assert {r["serial_no"] for r in data.rows} == {"SN0002"}
    assert [m["document_number"] for m in data.document["meters"]] == ["sim-1p-24-2026-N00002"]
    assert data.stem.endswith("pos02-SN0002")
    assert not Draft202012Validator(schema()).is_valid({**data.document, "rows": [{}]})


def test_another_destination_implements_the_interface(contexts):
    class Upload(Exporter):
        name = "lab-system"

        def __init__(self) -> None:
            self.sent: list[dict] = []

        def export(self, data: RunExport) -> list[str]:
            self.sent.append(data.document)
            return [f"lab://runs/{data.document['run']['run_id']}"]

    upload = Upload()
    assert upload.export(run_export(contexts[RUN_A])) == ["lab://runs/RUN-A"]
    assert upload.sent[0]["schema"] == "meterbench/run-export/1"
