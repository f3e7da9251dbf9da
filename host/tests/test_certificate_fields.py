"""A certificate and a result notice rendered to PDF from a stored run (the report fixtures'
sample run with a lab profile snapshot), converted to text (pypdf) and to PNG (pypdfium2):
every field a Chinese metrology institute's 检定证书 / 检定结果通知书 carries is there, in
Chinese, with times in the lab's time zone; the batch PDF keeps bus frames in an appendix."""

from __future__ import annotations

import dataclasses
import io
import re
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from pypdf import PdfReader

from meterbench.config.lab import lab_snapshot, load_lab
from meterbench.reports import load_context
from meterbench.reports.batch import build_batch
from meterbench.reports.certificate import build_certificate
from meterbench.reports.fonts import subset_fonts
from meterbench.reports.pdf import pdf_text, render_pdf
from meterbench.reports.record import build_record
from meterbench.reports.translations import REASONS, knows_reason, point_label, reason_text
from meterbench.results import (
    Conclusion,
    Event,
    LimitKind,
    ManualResult,
    Outcome,
    Position,
    ResultsStore,
    RunStatus,
    Severity,
    Step,
)
from meterbench.results.sample import START, sample_records, sample_run, verdict_records

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import EXTRA, SNAPSHOTS_FULL  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
LAB = load_lab(REPO / "bench_configs" / "labs" / "example-lab.toml")
RUN = "RUN-CERT"
IMAX = "basic_error/P+/all/Imax/1.0"
CUSTOMER = "示例供电公司计量中心"
PLAN = {
    "DDZY-1": {
        "steps": [
            {
                "type": "manual",
                "id": "visual",
                "item": "visual",
                "title": "外观检查",
                "mandatory": True,
            }
        ]
    }
}
PROFILE = {
    "profile": {"id": "jjg596-2012", "basis": "JJG596-2012《电子式交流电能表》", "version": 1}
}


def _store(path: Path) -> None:
    run = dataclasses.replace(sample_run(RUN), extra=EXTRA)
    snapshots = {
        **SNAPSHOTS_FULL,
        "lab": lab_snapshot(LAB),
        "plan": PLAN,
        "regulation_profile": PROFILE,
    }
    at = START + timedelta(minutes=40)
    with ResultsStore.open(path) as store:
        store.create_run(run, snapshots)
        for record in sample_records(RUN):
            if isinstance(record, Position):
                record = dataclasses.replace(record, customer=CUSTOMER)
            store.append(record)
        store.append(
            Step(run_id=RUN, step_key=IMAX, ordinal=3, item="basic_error", point="P+/all/Imax/1.0")
        )
        for p in (1, 2):
            store.append(
                Conclusion(
                    run_id=RUN,
                    position=p,
                    step_key=IMAX,
                    at=at,
                    outcome=Outcome.PASS,
                    limit_kind=LimitKind.MPE,
                    mean=Decimal(p * 5 - 10) / 100,
                    rounded=Decimal("0.0"),
                    lower=Decimal(-2),
                    upper=Decimal(2),
                    unit="%",
                ),
                ManualResult(
                    run_id=RUN,
                    position=p,
                    item="visual",
                    at=at,
                    outcome=Outcome.PASS,
                    verifier="李伟",
                    note="封印完好",
                ),
            )
        for k in range(40):  # a silent meter's retries, each with its frames
            store.append(
                Event(
                    run_id=RUN,
                    at=at + timedelta(seconds=k),
                    severity=Severity.WARNING,
                    kind="timeout",
                    message=f"position 2 did not answer ({k})",
                    position=2,
                    trace=[
                        {
                            "direction": "tx",
                            "hex": f"68 02 00 00 00 00 00 68 11 04 33 33 34 33 {k:02X} 16",
                        }
                    ],
                )
            )
        store.append(*verdict_records(RUN))  # lot figures (a flagged lot)
        store.set_status(RUN, RunStatus.COMPLETED, START + timedelta(hours=1))


@pytest.fixture(scope="module")
def pdfs(tmp_path_factory):
    path = tmp_path_factory.mktemp("cert") / "results.db"
    _store(path)
    with ResultsStore.open(path, create=False) as store:
        ctx = load_context(store, RUN, "zh")
    docs = {
        "certificate": build_certificate(ctx, ctx.meter("SN0001")),
        "notice": build_certificate(ctx, ctx.meter("SN0002")),
        "record": build_record(ctx, ctx.meter("SN0001")),
        "batch": build_batch(ctx, plots=False),
    }
    fonts = subset_fonts("".join(pdf_text(d) for d in docs.values()))
    return {name: render_pdf(doc, fonts) for name, doc in docs.items()}


def _text(pdf: bytes) -> str:
    """pypdf's text, whitespace removed (a CJK line may come out with spaces between glyphs)."""
    reader = PdfReader(io.BytesIO(pdf))
    return re.sub(r"\s+", "", "".join(page.extract_text() or "" for page in reader.pages))


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_certificate_carries_every_field(pdfs) -> None:
    text = _text(pdfs["certificate"])
    expected = [
        "检定证书",
        # the institute, its address and authorisation
        LAB.lab.name,
        LAB.lab.address,
        "授权证书号",
        LAB.lab.authorisation,
        # signatures with space to sign
        "批准人",
        "王芳",
        "核验员",
        "ZhangMin",
        "检定员",
        "LiWei",
        "签名",
        # validity from the regulation's period (class 2: 96 months, to the day before)
        "有效期至",
        "2034-03-01",
        "检定日期",
        "2026-03-02",
        # who submitted the meter
        "送检单位",
        CUSTOMER,
        # the regulation's full title
        "JJG596-2012《电子式交流电能表检定规程》",
        # the standard, its examination certificate, traceability and uncertainty
        "计量标准考核证书号",
        LAB.standards[0].examination_certificate,
        "量值溯源至国家电能计量基准",
        "测量不确定度",
        "U=0.05%(k=2)",
        # readable load points, Chinese nameplate keys, manual items
        "Imax,cosφ=1.0,正向有功",
        "准确度等级",
        "外观检查",
        "封印完好",
    ]
    missing = [e for e in expected if _squash(e) not in text]
    assert not missing, missing


def test_notice_says_why_in_chinese(pdfs) -> None:
    text = _text(pdfs["notice"])
    for expected in ("检定结果通知书", "不合格项目", "计度器走快", LAB.lab.authorisation, "批准人"):
        assert _squash(expected) in text, expected
    assert "registerranahead" not in text
    assert "有效期至2034" not in text  # a notice has no validity of its own


def test_times_print_in_the_lab_time_zone(pdfs) -> None:
    text = _text(pdfs["record"])
    assert "2026-03-0216:30:00+08:00" in text  # 08:30 UTC in Asia/Shanghai


def test_pages_render_to_images(pdfs) -> None:
    document = pypdfium2.PdfDocument(pdfs["certificate"])
    try:
        assert len(document) >= 3
        for page in document:
            image = page.render(scale=1).to_pil().convert("L")
            buffer = io.BytesIO()
            image.save(buffer, format="PNG")
            assert buffer.getvalue().startswith(b"\x89PNG")
            dark = sum(1 for value in image.tobytes() if value < 128)
            assert dark > 0.002 * image.width * image.height
    finally:
        document.close()


def test_batch_report_keeps_frames_in_an_appendix(pdfs) -> None:
    reader = PdfReader(io.BytesIO(pdfs["batch"]))
    pages = [_squash(page.extract_text() or "") for page in reader.pages]
    appendix = next(i for i, page in enumerate(pages) if "附录：通信报文" in page)
    first_frame = next(i for i, page in enumerate(pages) if "6802000000000068" in page)
    assert first_frame >= appendix  # no frame before the appendix
    integrity = next(i for i, page in enumerate(pages) if "防篡改校验" in page)
    assert integrity <= appendix
    assert "批次平均误差" in "".join(pages)  # lot section present when stored
    assert integrity < 3  # results, log and tamper evidence stay on the first pages


def test_every_reason_the_runner_writes_has_a_translation() -> None:
    runner = REPO / "host" / "meterbench" / "runner"
    written = {
        "register ran ahead of the pulses",
        "no pulse within t0",
        "first pulse after t0",
        "0.6 % beyond ±0.5 %",
        "-5.2 % beyond ±5 % (lower zone)",
        "register error 1.2 % beyond ±1.0 %",
        "daily error +0.86 s/d",
        "meter clock +3 s off after setting",
        "controller gave no result",
        "meter did not pulse",
        "no second pulses",
        "the meter has no bus to reach it on",
        "the controller lost meter pulses",
    }
    assert runner.is_dir()
    for reason in written:
        assert knows_reason(reason), reason
        assert not re.search(r"[a-z]{4}", reason_text(reason, "zh")), reason
    assert len(REASONS) >= len(written)
    assert reason_text("something new", "zh") == "something new"  # never invented
    assert reason_text("no pulse within t0; controller gave no result", "zh").count("；") == 1
    assert point_label("P-/A/0.5Ib/0.5L", "zh") == "0.5Ib, cosφ=0.5L, A相, 反向有功"
    assert point_label("P+/all/Imax/1.0", "en") == "Imax, PF 1.0, forward active"
    assert point_label("Q3", "zh") == "Q3" and point_label("1.15 Un", "zh") == "1.15 Un"


def test_firmware_line_names_the_runtime_the_controller_reports() -> None:
    from meterbench.reports.traceability import firmware_line

    common = {"fw_version": "0.3.1", "fw_hash": "abcd", "board": "rp2-pico", "protocol": "1"}
    real = firmware_line({**common, "mpy": "6406", "mp_version": "1.24.1"})
    assert "MicroPython 1.24.1" in real and "link 0x0001" in real
    simulated = firmware_line({**common, "mpy": "0", "mp_version": "3.11.7", "board": "sim"})
    assert "MicroPython" not in simulated and "CPython 3.11.7" in simulated


def test_every_nameplate_key_has_a_chinese_label_or_is_hidden() -> None:
    from meterbench.config.gas_meter_type import GasMeterType
    from meterbench.config.heat_meter_type import HeatMeterType
    from meterbench.config.meter_types import ElectricityMeterType, WaterMeterType
    from meterbench.reports.common import NAMEPLATE_HIDDEN
    from meterbench.reports.labels import Labels

    labels = Labels("zh")
    missing = [
        f"{model.__name__}.{field.alias or name}"
        for model in (ElectricityMeterType, WaterMeterType, HeatMeterType, GasMeterType)
        for name, field in model.model_fields.items()
        if (field.alias or name) not in NAMEPLATE_HIDDEN
        and not re.search(r"[\u4e00-\u9fff]", labels.nameplate(field.alias or name))
    ]
    assert missing == []


def test_the_bench_names_its_lab_and_a_bad_lab_profile_names_file_and_field(
    tmp_path: Path,
) -> None:
    from meterbench.config.bench import load_bench
    from meterbench.config.errors import ConfigError
    from meterbench.config.lab import bench_lab

    bench_file = REPO / "bench_configs" / "sim-1p-24.toml"
    lab = bench_lab(load_bench(bench_file).lab, bench_file)
    assert lab is not None and lab.lab.authorisation == LAB.lab.authorisation
    assert bench_lab(None, bench_file) is None
    with pytest.raises(ConfigError, match="lab.*not found"):
        bench_lab("labs/missing.toml", bench_file)
    bad = tmp_path / "lab.toml"
    text = (REPO / "bench_configs" / "labs" / "example-lab.toml").read_text()
    bad.write_text(text.replace('timezone = "Asia/Shanghai"', 'timezone = "Mars/Olympus"'))
    with pytest.raises(ConfigError, match=r"lab\.toml.*lab\.timezone"):
        bench_lab("lab.toml", tmp_path / "bench.toml")
