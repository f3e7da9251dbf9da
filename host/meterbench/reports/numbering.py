"""Certificate and result-notice numbers, derived from stored records so they never change.

The bench config's ``certificates.number_format`` (e.g. ``{bench}-{year}-{kind}{seq:05d}``) is
filled with:

* ``bench``: the run head's bench (the runner stores the bench config's ``bench.id`` there);
* ``year``: the year of the run's start, in the offset it was recorded with;
* ``kind``: ``C`` for a certificate, ``N`` for a result notice;
* ``seq``: one counter per bench and year over every meter of every run, whatever its outcome:
  ``first_seq`` of the run + the meter's place in the run (by position number, from 0).

``first_seq`` is ``run.extra["certificate_first_seq"]`` when the runner reserved a block of
numbers in the run head; otherwise it is 1 + the number of meters of the same bench's runs in
the same database that started earlier in the same year (ordered by start time, then run id).
Records are append-only and runs are created in start order, so rendering again, today or in
ten years, gives the same number. A run moved to another database keeps its numbers only if its
head carries ``certificate_first_seq``.
"""

from __future__ import annotations

from collections.abc import Iterable

from meterbench.reports.errors import NumberFormatError
from meterbench.results import Run, RunRecord, RunSummary

KIND_LETTERS = {"certificate": "C", "notice": "N"}
FIRST_SEQ_KEY = "certificate_first_seq"


def first_seq(record: RunRecord | Run, runs: Iterable[RunSummary]) -> int:
    """The run's first sequence number (see the module docstring); the run head suffices."""
    run = record.run if isinstance(record, RunRecord) else record
    reserved = run.extra.get(FIRST_SEQ_KEY)
    if isinstance(reserved, int) and not isinstance(reserved, bool) and reserved > 0:
        return reserved
    here = (run.started_at, run.run_id)
    earlier = sum(
        s.meters
        for s in runs
        if s.bench == run.bench
        and s.started_at.year == run.started_at.year
        and (s.started_at, s.run_id) < here
    )
    return 1 + earlier


def document_number(number_format: str, *, bench: str, year: int, kind: str, seq: int) -> str:
    """Fill the bench's number format; a broken format is a `NumberFormatError`."""
    try:
        return number_format.format(bench=bench, year=year, kind=KIND_LETTERS[kind], seq=seq)
    except (KeyError, IndexError, ValueError, AttributeError) as exc:
        raise NumberFormatError(number_format, f"{type(exc).__name__}: {exc}") from None
