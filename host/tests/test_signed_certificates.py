"""Certificates carry their number, the final hash and the lab's signature (text and QR code);
none is issued for a run whose chain or signature fails; the public lookup tells anyone
whether a certificate's hash and signature hold, and nothing internal."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import segno
from typer.testing import CliRunner

sys.path.insert(0, str(Path(__file__).parent))

from reports_fixtures import RUN_A, store_run  # noqa: E402
from test_signed_records import (  # noqa: E402
    delete_last_rows,
    make_lab,
    rechain_with_edit,
)

from meterbench.cli import app  # noqa: E402
from meterbench.config.lab import lab_key, lab_public_key  # noqa: E402
from meterbench.reports.chart import Box  # noqa: E402
from meterbench.reports.context import load_context  # noqa: E402
from meterbench.reports.errors import SignatureInvalidError  # noqa: E402
from meterbench.reports.lookup import public_lookup  # noqa: E402
from meterbench.reports.render import render_certificates  # noqa: E402
from meterbench.reports.signature_code import QUIET_ZONE, verify_code  # noqa: E402
from meterbench.results import ResultsStore  # noqa: E402
from meterbench.results.signing import LabKey  # noqa: E402


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return make_lab(tmp_path)


def _signed_run(location: str, lab: Path) -> None:
    with ResultsStore.open(location) as store:
        store.signer = lab_key(lab)
        store_run(store, RUN_A)


def _numbers(location: str) -> dict[str, str]:
    """serial -> document number of the run's meters."""
    with ResultsStore.open(location, read_only=True) as store:
        ctx = load_context(store, RUN_A)
    return {m.position.serial_no or "": ctx.numbers[m.position.position] for m in ctx.meters}


def test_a_certificate_carries_number_hash_and_signature_as_text_and_qr(tmp_path, lab):
    import pypdfium2

    location = str(tmp_path / "r.db")
    _signed_run(location, lab)
    with ResultsStore.open(location, read_only=True) as store:
        outcome = render_certificates(
            store, RUN_A, tmp_path / "out", formats=("pdf",), public_key=lab_public_key(lab)
        )
        head = store.signed_heads(RUN_A)[-1]
    assert outcome.paths
    pdf = pypdfium2.PdfDocument(outcome.paths[0])
    text = "".join(page.get_textpage().get_text_range() for page in pdf)
    assert head.final_hash in text.replace("\r\n", "").replace("\n", "")
    assert head.signature[:40] in text.replace("\r\n", "").replace("\n", "")


def test_the_qr_code_on_a_certificate_decodes_and_verifies(tmp_path, lab):
    """The code is checked offline with the published key; a changed hash is not."""
    from meterbench.reports.certificate import build_certificate
    from meterbench.reports.document import Image

    location = str(tmp_path / "r.db")
    _signed_run(location, lab)
    public = lab_public_key(lab)
    assert public is not None
    with ResultsStore.open(location, read_only=True) as store:
        ctx = load_context(store, RUN_A, public_key=public)
    meter = next(m for m in ctx.meters if m.document_kind)
    doc = build_certificate(ctx, meter)
    codes = [b for b in doc.blocks if isinstance(b, Image) and b.width_mm]
    assert len(codes) == 1
    payload = codes[0].alt
    number = ctx.number_of(meter)
    assert number and f'"no":"{number}"' in payload
    assert verify_code(payload, public)
    assert not verify_code(payload.replace(ctx.integrity.final_hash[:8], "00000000"), public)
    assert not verify_code(payload, LabKey.generate().public)
    # What is drawn is the code of that payload, module for module.
    chart = codes[0].chart
    matrix = segno.make(payload, error="m", micro=False).matrix
    unit = chart.width / (len(matrix) + 2 * QUIET_ZONE)
    drawn = {
        (round(box.y / unit) - QUIET_ZONE, round(box.x / unit) - QUIET_ZONE + i)
        for box in chart.shapes
        if isinstance(box, Box)
        for i in range(round(box.w / unit))
    }
    dark = {(r, c) for r, row in enumerate(matrix) for c, on in enumerate(row) if on}
    assert drawn == dark and len(dark) > 200


def test_no_certificate_for_a_run_whose_signature_fails(db_location, lab, tmp_path):
    _signed_run(db_location, lab)
    rechain_with_edit(db_location, RUN_A, "conclusion", outcome="pass")
    with ResultsStore.open(db_location, read_only=True) as store:
        assert store.verify_chain(RUN_A).ok
        with pytest.raises(SignatureInvalidError, match="chain rewritten"):
            render_certificates(store, RUN_A, tmp_path / "out", public_key=lab_public_key(lab))
        # even without the lab's key at hand
        with pytest.raises(SignatureInvalidError):
            render_certificates(store, RUN_A, tmp_path / "out")
    result = CliRunner().invoke(
        app, ["certificate", RUN_A, "--db", db_location, "--lab", str(lab), "--out", str(tmp_path)]
    )
    assert result.exit_code == 2 and "signature" in result.output


def test_an_unsigned_run_gets_no_certificate_where_the_lab_signs(tmp_path, lab):
    location = str(tmp_path / "r.db")
    with ResultsStore.open(location) as store:
        store_run(store, RUN_A)
    with ResultsStore.open(location, read_only=True) as store:
        with pytest.raises(SignatureInvalidError, match="no lab signature"):
            render_certificates(store, RUN_A, tmp_path / "out", public_key=lab_public_key(lab))
        assert render_certificates(store, RUN_A, tmp_path / "plain").paths  # a lab without keys


# -- the public lookup ---------------------------------------------------------------------


def test_lookup_by_number_and_by_serial_says_what_the_public_may_know(db_location, lab):
    _signed_run(db_location, lab)
    numbers = _numbers(db_location)
    serial, number = next(iter(numbers.items()))
    public = lab_public_key(lab)
    with ResultsStore.open(db_location, read_only=True) as store:
        by_number = public_lookup(store, number, public)
        by_serial = public_lookup(store, serial, public)
        assert public_lookup(store, "NO-SUCH-THING", public) == []
        final = store.verify_chain(RUN_A).final_hash
    assert by_number == by_serial and len(by_number) == 1
    found = by_number[0]
    assert found.number == number and found.serial_no == serial
    assert found.hash_verified and found.signature_verified
    assert found.final_hash == final and found.signature and found.lab
    assert found.conclusion in ("pass", "fail") and found.verification_date
    assert found.document == ("certificate" if found.conclusion == "pass" else "notice")
    shown = " ".join(str(v) for v in found.to_json().values())
    assert "run_id" not in found.to_json() and "bench" not in found.to_json()
    for internal in (RUN_A, "Li Wei", "Zhang Min", "lab 2", db_location):
        assert internal not in shown


def test_lookup_reports_removed_rows(db_location, lab):
    _signed_run(db_location, lab)
    serial = next(iter(_numbers(db_location)))
    delete_last_rows(db_location, RUN_A, 2)  # with the closing status: it looks unfinished
    with ResultsStore.open(db_location, read_only=True) as store:
        found = public_lookup(store, serial, lab_public_key(lab))
        head = store.signed_heads(RUN_A)[-1]
    assert len(found) == 1
    assert found[0].final_hash == head.final_hash  # the hash the certificate carries
    assert not found[0].hash_verified and not found[0].signature_verified


def test_lookup_reports_a_rechained_edit(db_location, lab):
    _signed_run(db_location, lab)
    serial = next(iter(_numbers(db_location)))
    rechain_with_edit(db_location, RUN_A, "conclusion", outcome="pass")
    with ResultsStore.open(db_location, read_only=True) as store:
        found = public_lookup(store, serial, lab_public_key(lab))
    assert len(found) == 1
    assert not found[0].hash_verified and not found[0].signature_verified
