"""Everything a document is built from, read once from the store: the report context.

Documents are pure functions of this context, so a record, a certificate and the batch report
of one run can never disagree, and nothing is read from a bench, a simulator or a config file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import tzinfo

from meterbench.reports.errors import UnknownMeterError
from meterbench.reports.integrity import Integrity, OnBroken, check, require
from meterbench.reports.lab import LabFacts, document_zone, lab_facts
from meterbench.reports.labels import Labels
from meterbench.reports.meters import MeterResult, find_meter, meter_results
from meterbench.reports.numbering import document_number, first_seq
from meterbench.reports.traceability import BenchFacts, bench_facts
from meterbench.results import ResultsStore, RunRecord
from meterbench.results.signing import PublicKey


@dataclass(frozen=True)
class ReportContext:
    record: RunRecord
    integrity: Integrity
    facts: BenchFacts
    meters: list[MeterResult]
    labels: Labels
    first_seq: int
    numbers: dict[int, str] = field(default_factory=dict)  # position -> certificate/notice no.
    lab: LabFacts = LabFacts()
    tz: tzinfo | None = None  # printed times; None: as recorded

    @property
    def profile_id(self) -> str:
        """The regulation profile id the run used (``jjg596-2012``)."""
        profile = self.record.snapshots.get("regulation_profile")
        head = profile.get("profile") if isinstance(profile, Mapping) else None
        found = head.get("id") if isinstance(head, Mapping) else None
        return str(found) if found else self.record.run.regulation

    @property
    def run_id(self) -> str:
        return self.record.run.run_id

    @property
    def lang(self) -> str:
        return self.labels.lang

    def meter(self, wanted: str) -> MeterResult:
        found = find_meter(self.meters, wanted)
        if found is None:
            raise UnknownMeterError(self.run_id, wanted, [m.label for m in self.meters])
        return found

    def number_of(self, meter: MeterResult) -> str | None:
        return self.numbers.get(meter.position.position)


def load_context(
    store: ResultsStore,
    run_id: str,
    lang: str = "zh",
    on_broken: OnBroken = "refuse",
    public_key: PublicKey | None = None,
) -> ReportContext:
    """Load a run, check its chain and signatures (refusing a broken one unless
    ``on_broken="mark"``); ``public_key``: the lab's published key, when known."""
    labels = Labels(lang)
    record = store.load_run(run_id)
    integrity = check(store, record, public_key)
    require(integrity, on_broken)
    facts = bench_facts(record)
    lab = lab_facts(record, bench_kind(record))
    meters = meter_results(record)
    start = first_seq(record, store.list_runs())
    numbers: dict[int, str] = {}
    for meter in meters:
        kind = meter.document_kind
        if kind is not None:
            numbers[meter.position.position] = document_number(
                facts.number_format,
                bench=record.run.bench,
                year=record.run.started_at.year,
                kind=kind,
                seq=start + meter.index,
            )
    return ReportContext(
        record, integrity, facts, meters, labels, start, numbers, lab, document_zone(lab)
    )


def bench_kind(record: RunRecord) -> str:
    bench = record.snapshots.get("bench_config")
    head = bench.get("bench") if isinstance(bench, Mapping) else None
    kind = head.get("kind") if isinstance(head, Mapping) else None
    return str(kind) if kind else "electricity"
