"""The public lookup (强制检定合格公示): anyone, without logging in, checks a certificate.

Given a meter serial or a certificate number, it shows what the certificate says (conclusion,
date, validity, the lab) and the record's hash with how to check it; nothing internal (no run
id, no readings, no names of staff). Only approved runs are published. Each answer says
whether the stored record still verifies against the hash: a record edited or cut after the
certificate was issued is reported, not published as valid.

Checking a record is `check_record`, an interface with one implementation here (the hash
chain, recomputed). A signature-aware check plugs in as ``create_app(..., checker=...)``
(any ``Checker``) without changing the page.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace

from meterbench.reports.certificate import valid_until
from meterbench.reports.common import verification_date
from meterbench.reports.context import load_context
from meterbench.reports.errors import ReportError
from meterbench.reports.fmt import local_day
from meterbench.results import StoreError
from meterbench.results.signing import PublicKey
from meterbench.web.access import LabStore
from meterbench.web.service import Lab


@dataclass(frozen=True, slots=True)
class RecordCheck:
    """What checking a published record found."""

    ok: bool  # the record is intact and matches the published hash (and signature, if any)
    chain_ok: bool
    signature_ok: bool | None  # None: no signature to check
    detail: str


Checker = Callable[[LabStore, str, str], RecordCheck]


def check_record(store: LabStore, run_id: str, published_hash: str) -> RecordCheck:
    """Recompute the run's hash chain and compare its end with the published hash."""
    try:
        report = store.verify_chain(run_id, published_hash)
    except StoreError as exc:
        return RecordCheck(False, False, None, f"the record cannot be read: {exc}")
    if report.ok:
        return RecordCheck(True, True, None, "the stored record verifies and ends in this hash")
    problem = report.problem.message if report.problem else "the chain does not verify"
    return RecordCheck(False, False, None, f"the stored record does not match: {problem}")


def signed_checker(public_key: PublicKey) -> Checker:
    """The lab's own check: the hash chain, and the lab's signature over its head.

    A record rewritten and rechained by someone without the lab's key, or cut after it was
    signed, fails here although its chain alone may look whole."""

    def check(store: LabStore, run_id: str, published_hash: str) -> RecordCheck:
        try:
            found = store.results.verify_run(run_id, published_hash, public_key)
        except StoreError as exc:
            return RecordCheck(False, False, False, f"the record cannot be read: {exc}")
        chain_ok, signature_ok = found.chain.ok, found.signatures.ok
        if found.ok:
            detail = "the stored record verifies, ends in this hash and carries the lab's signature"
        elif not chain_ok:
            problem = found.chain.problem.message if found.chain.problem else "it does not verify"
            detail = f"the stored record does not match: {problem}"
        else:
            detail = f"the stored record does not match: {found.signatures.problem}"
        return RecordCheck(found.ok, chain_ok, signature_ok, detail)

    return check


@dataclass(frozen=True, slots=True)
class PublicEntry:
    serial: str
    document: str  # certificate or notice
    number: str
    conclusion: str  # qualified / not qualified
    date: str
    valid_until: str
    lab: str
    final_hash: str
    check: RecordCheck


class RateLimit:
    """At most ``limit`` requests per client in any ``window_s`` seconds (sliding window)."""

    def __init__(self, limit: int = 30, window_s: float = 60.0) -> None:
        self.limit, self.window_s = limit, window_s
        self._seen: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def allow(self, client: str) -> bool:
        now = time.monotonic()
        with self._lock:
            times = self._seen.setdefault(client, deque())
            while times and now - times[0] > self.window_s:
                times.popleft()
            if len(times) >= self.limit:
                return False
            times.append(now)
            return True


def _entries(lab: Lab, run_id: str) -> list[tuple[str, str, PublicEntry]]:
    """(serial, number, entry) for every document of an approved run.

    The published hash is the approval's (nothing is appended after it); the record is
    checked against it on every lookup, the documents' facts are cached per hash."""
    store = lab.store
    final = store.approval_hash(run_id)
    if final is None:
        return []
    check = (lab.checker or check_record)(store, run_id, final)
    key = (run_id, final)
    cached = lab.cache.get(key)
    if cached is not None:
        return [(s, n, replace(e, check=check)) for s, n, e in cached]
    out: list[tuple[str, str, PublicEntry]] = []
    try:
        ctx = load_context(store.results, run_id, "zh", "mark")
    except (ReportError, StoreError):
        return out
    for meter in ctx.meters:
        kind = meter.document_kind
        number = ctx.number_of(meter)
        if kind is None or number is None or not meter.position.serial_no:
            continue
        when = verification_date(ctx, meter)
        day = local_day(when, ctx.tz)
        klass = str(meter.nameplate.get("class") or "")
        entry = PublicEntry(
            serial=meter.position.serial_no,
            document=kind,
            number=number,
            conclusion="qualified (合格)" if kind == "certificate" else "not qualified (不合格)",
            date=day.isoformat() if day else "",
            valid_until=valid_until(ctx, when, klass) if kind == "certificate" else "",
            lab=ctx.lab.name or ctx.lab.name_en,
            final_hash=final,
            check=check,
        )
        out.append((entry.serial, number, entry))
    lab.cache[key] = out
    return out


def lookup(lab: Lab, query: str) -> list[PublicEntry]:
    """Documents of approved runs whose meter serial or certificate number is ``query``."""
    wanted = query.strip()
    if not wanted:
        return []
    approved = lab.store.approved_runs()
    runs = [r for r in lab.store.runs_of_serial(wanted) if r in approved] or approved
    found: list[PublicEntry] = []
    for run_id in runs:
        for serial, number, entry in _entries(lab, run_id):
            if wanted in (serial, number):
                found.append(entry)
    return found


__all__ = ["Checker", "PublicEntry", "RateLimit", "RecordCheck", "check_record", "lookup"]
