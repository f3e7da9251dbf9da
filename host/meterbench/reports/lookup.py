"""The public lookup: what anyone may learn about a verified meter, and whether it holds.

Given a certificate (or result notice) number or a meter serial number, `public_lookup` returns
the conclusion, the verification date, the validity, the lab, the final hash the document
carries and the lab's signature, each with whether it verifies now against the stored chain
and the lab's published key. Nothing internal: no run id, bench, people, readings or database
location. A record whose chain or signature fails is still found, and says so: the public is
told the document cannot be relied on, not that it does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from meterbench.reports import fmt
from meterbench.reports.certificate import valid_until
from meterbench.reports.common import verification_date
from meterbench.reports.context import ReportContext, load_context
from meterbench.reports.meters import MeterResult
from meterbench.reports.numbering import KIND_LETTERS, document_number, first_seq
from meterbench.reports.traceability import DEFAULT_NUMBER_FORMAT
from meterbench.results import ResultsStore, RunStatus, RunSummary
from meterbench.results.signing import PublicKey, SignedHead

HOW_TO_CHECK = (
    "The lab signs each record's final hash with its Ed25519 key; check the signature on the "
    "certificate (text or QR code) with the lab's published public key, or run "
    "`meterbench records verify` with the lab's key where the records are kept."
)


@dataclass(frozen=True, slots=True)
class PublicResult:
    """One verified meter as the public sees it (``to_json`` for pages and the API)."""

    document: str  # "certificate" (passed) or "notice" (result notice: not passed)
    number: str
    serial_no: str
    conclusion: str  # "pass" or "fail"
    verification_date: str  # ISO date, in the lab's zone
    valid_until: str  # ISO date; "" for a notice or where the lab states no period
    lab: str
    final_hash: str
    signature: str  # "" when the record carries no lab signature
    key_id: str
    hash_verified: bool  # the stored chain is intact and ends in ``final_hash``
    signature_verified: bool  # the lab's key signed exactly that head
    how_to_check: str = HOW_TO_CHECK

    def to_json(self) -> dict[str, object]:
        return {name: getattr(self, name) for name in self.__slots__}


def public_lookup(
    store: ResultsStore, query: str, public_key: PublicKey | None = None
) -> list[PublicResult]:
    """Every certificate or notice whose number or meter serial number is ``query``, newest
    first; [] when none. Only completed runs issue documents. ``public_key``: the lab's
    published key (without it no signature counts as verified)."""
    wanted = query.strip()
    if not wanted:
        return []
    summaries = store.list_runs()
    found: list[PublicResult] = []
    for summary in reversed(summaries):
        # Documents come from completed runs; a run the lab signed that no longer looks
        # completed (its last rows removed) is still found, and reported as not verifying.
        issued = summary.status is RunStatus.COMPLETED or store.signed_heads(summary.run_id)
        if not issued:
            continue
        if not _may_hold(store, summary, summaries, wanted):
            continue
        ctx = load_context(store, summary.run_id, "en", "mark", public_key)
        for meter in ctx.meters:
            number = ctx.number_of(meter)
            kind = meter.document_kind
            if number is None or kind is None:
                continue
            if wanted in (number, meter.position.serial_no):
                trusted = public_key is not None
                heads = store.signed_heads(summary.run_id)
                found.append(
                    _result(ctx, meter, kind, number, heads[-1] if heads else None, trusted)
                )
    return found


def _may_hold(
    store: ResultsStore, summary: RunSummary, runs: list[RunSummary], wanted: str
) -> bool:
    """A cheap test before loading a whole run: a meter with that serial, or a document
    number the run's numbering can produce."""
    if any(p.serial_no == wanted for p in store.positions(summary.run_id)):
        return True
    run = store.get_run(summary.run_id)
    bench = store.snapshots(summary.run_id).get("bench_config")
    scheme = bench.get("certificates") if isinstance(bench, Mapping) else None
    number_format = scheme.get("number_format") if isinstance(scheme, Mapping) else None
    start = first_seq(run, runs)
    for index in range(summary.meters):
        for kind in KIND_LETTERS:
            number = document_number(
                str(number_format or DEFAULT_NUMBER_FORMAT),
                bench=run.bench,
                year=run.started_at.year,
                kind=kind,
                seq=start + index,
            )
            if number == wanted:
                return True
    return False


def _result(
    ctx: ReportContext,
    meter: MeterResult,
    kind: str,
    number: str,
    last_head: SignedHead | None,
    trusted: bool,
) -> PublicResult:
    """The public facts of one meter. The hash a document carries is the last signed head's
    (the current one for a run the lab does not sign); it verifies when the stored chain is
    intact and still ends in it, the signature when the lab's key signed exactly that."""
    integrity = ctx.integrity
    signed = integrity.signed
    carried = last_head.final_hash if last_head is not None else integrity.final_hash
    when = verification_date(ctx, meter)
    meter_class = fmt.scalar(meter.nameplate.get("class"))
    verdict = meter.verdict()
    return PublicResult(
        document=kind,
        number=number,
        serial_no=meter.position.serial_no or "",
        conclusion=verdict.value if verdict is not None else "",
        verification_date=fmt.day(fmt.local_day(when, ctx.tz)),
        valid_until=valid_until(ctx, when, meter_class) if kind == "certificate" else "",
        lab=ctx.lab.name or ctx.facts.issuer,
        final_hash=carried,
        signature=last_head.signature if last_head is not None else "",
        key_id=last_head.key_id if last_head is not None else "",
        hash_verified=integrity.chain_ok and integrity.final_hash == carried,
        signature_verified=trusted and integrity.ok and signed is not None,
    )
