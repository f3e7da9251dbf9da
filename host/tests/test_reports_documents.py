"""What the documents say, checked on the document model (no PDF needed): record fields,
certificate vs result notice, certificate numbers, bilingual labels, clear refusals."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pytest

from meterbench.reports import (
    NoVerdictError,
    NumberFormatError,
    RunNotClosedError,
    UnknownMeterError,
    load_context,
)
from meterbench.reports.batch import build_batch
from meterbench.reports.certificate import add_months, build_certificate
from meterbench.reports.context import ReportContext
from meterbench.reports.labels import LANGS, Labels, all_keys
from meterbench.reports.numbering import document_number, first_seq
from meterbench.reports.record import build_record
from meterbench.reports.render import certificate_documents
from meterbench.results import ResultsStore

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import (  # noqa: E402
    HOSTILE,
    RUN_A,
    RUN_B,
    RUN_OPEN,
    RUN_X,
    STANDARD_CERT,
    build_database,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    path = build_database(tmp_path_factory.mktemp("reports") / "results.db")
    with ResultsStore.open(path, create=False) as opened:
        yield opened


def ctx_of(store: ResultsStore, run_id: str, lang: str = "zh") -> ReportContext:
    return load_context(store, run_id, lang)


def test_record_has_every_reading_and_the_traceability(store):
    ctx = ctx_of(store, RUN_A, "en")
    text = build_record(ctx, ctx.meter("SN0002")).text()
    for expected in (
        "SN0002",
        "A00000002",
        "-0.35 %",  # each reading
        "-0.25 %",
        "-0.30 %",  # unrounded mean
        "-0.4 %",  # rounded value (class 2, interval 0.2, half-even)
        "±2.0 %",  # MPE
        "±1.2 %",  # acceptance limit, reported separately
        "m=600000",  # raw counts
        "register_before_kwh=250.00",
        "register ran ahead of the pulses",
        STANDARD_CERT,
        "2027-01-31",
        "RS-3000",
        "20.3 °C",
        "Li Wei",
        "Zhang Min",
        "JJG596-2012《电子式交流电能表》",
        "68 02 00 00 00 00 00 68 11 04",  # the frame attached to this position's log entry
        ctx.integrity.final_hash,
    ):
        assert expected in text, expected
    assert ctx.integrity.ok and len(ctx.integrity.final_hash) == 64


def test_chinese_record_labels(store):
    ctx = ctx_of(store, RUN_A, "zh")
    text = build_record(ctx, ctx.meter("SN0001")).text()
    for label in (
        "原始记录",
        "基本误差",
        "潜动试验",
        "检定员",
        "核验员",
        "标准器证书编号",
        "化整值",
    ):
        assert label in text
    assert "+0.2 %" in text


def test_certificate_for_a_pass_and_notice_for_a_fail(store):
    ctx = ctx_of(store, RUN_A, "zh")
    certificate = build_certificate(ctx, ctx.meter("SN0001"))
    notice = build_certificate(ctx, ctx.meter("SN0002"))
    assert certificate.title.startswith("检定证书") and notice.title.startswith("检定结果通知书")
    assert "sim-1p-24-2026-C00001" in certificate.text()
    assert "sim-1p-24-2026-N00002" in notice.text()
    assert "走字试验" in notice.text() and "计度器走快" in notice.text()  # reason in Chinese
    assert "register ran ahead of the pulses" not in notice.text()
    assert "2027-03-01" in certificate.text()  # valid 12 months, to the day before
    assert "Wang Fang" in certificate.text() and "Example Metrology Institute" in certificate.text()
    for doc in (certificate, notice):
        assert STANDARD_CERT in doc.text() and ctx.integrity.final_hash in doc.text()


def test_numbers_continue_across_runs_and_do_not_change(store):
    numbers_a = ctx_of(store, RUN_A).numbers
    numbers_b = ctx_of(store, RUN_B).numbers
    assert numbers_a == {1: "sim-1p-24-2026-C00001", 2: "sim-1p-24-2026-N00002"}
    assert numbers_b == {1: "sim-1p-24-2026-C00003", 2: "sim-1p-24-2026-N00004"}
    assert ctx_of(store, RUN_A, "en").numbers == numbers_a  # rendering again: same numbers
    assert ctx_of(store, RUN_X).numbers[1] == "bench-x-2026-C00001"  # a counter per bench


def test_reserved_first_number_in_the_run_head(store):
    ctx = ctx_of(store, RUN_A)
    run = dataclasses.replace(ctx.record.run, extra={"certificate_first_seq": 700})
    record = dataclasses.replace(ctx.record, run=run)
    assert first_seq(record, store.list_runs()) == 700


def test_bad_number_format_is_named():
    with pytest.raises(NumberFormatError, match="certificates.number_format"):
        document_number("{bench}-{serial}", bench="b", year=2026, kind="certificate", seq=1)


def test_incomplete_meter_gets_no_document(store):
    ctx = ctx_of(store, RUN_X)
    meter = ctx.meter("SN0003")
    assert meter.document_kind is None and 3 not in ctx.numbers
    with pytest.raises(NoVerdictError, match="SN0003"):
        build_certificate(ctx, meter)
    docs, skipped = certificate_documents(ctx)
    assert len(docs) == 2 and len(skipped) == 1 and "SN0003" in skipped[0]
    record = build_record(ctx, meter).text()
    assert "电能表无脉冲输出" in record and HOSTILE in record and "无效" in record


def test_open_run_records_are_provisional_and_get_no_certificate(store):
    ctx = ctx_of(store, RUN_OPEN, "en")
    doc = build_record(ctx, ctx.meter("SN0001"))
    assert "provisional" in doc.text()
    with pytest.raises(RunNotClosedError, match="running"):
        build_certificate(ctx, ctx.meter("SN0001"))


def test_meter_is_found_by_serial_asset_or_position(store):
    ctx = ctx_of(store, RUN_A)
    assert ctx.meter("A00000002").position.position == 2
    assert ctx.meter("1").label == "SN0001" and ctx.meter("pos2").label == "SN0002"
    with pytest.raises(UnknownMeterError, match="SN0001, SN0002"):
        ctx.meter("SN9999")


def test_batch_report_summaries_and_statistics(store):
    ctx = ctx_of(store, RUN_A, "en")
    doc = build_batch(ctx, plots=False)
    text = doc.text()
    for expected in (
        "Summary per position",
        "-0.075 %",
        "0.3181980515339463",
        "+0.15",
        "result notice sim-1p-24-2026-N00002",
        "timeout",
        "68 02 00 00 00 00 00 68 11 04",
    ):
        assert expected in text, expected


def test_every_label_has_both_languages():
    for key in all_keys():
        texts = [Labels(lang)(key) for lang in LANGS]
        assert all(t.strip() for t in texts), key
    assert Labels("en").item("some_new_item") == "some_new_item"
    with pytest.raises(ValueError, match="zh, en"):
        Labels("fr")


def test_add_months_clamps_to_month_end():
    from datetime import date

    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 15), 14) == date(2028, 1, 15)
