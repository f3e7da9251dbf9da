"""`meterbench report RUN` and `meterbench certificate RUN` (registered in `meterbench.cli`).

Errors (no database, unknown run or meter, broken chain, run not completed) are raised as
StoreError or ReportError; the ``meterbench`` command prints them as every other bad input (one
line on stderr, exit status 2). Written files are printed one per line on stdout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from meterbench.results import ResultsStore, default_db_path
from meterbench.results.cli import LabOption, PublicKeyOption, trusted_key


class ReportFormat(StrEnum):
    HTML = "html"
    PDF = "pdf"
    CSV = "csv"
    JSON = "json"


class DocumentFormat(StrEnum):
    PDF = "pdf"
    HTML = "html"


class Language(StrEnum):
    ZH = "zh"
    EN = "en"


RunArgument = Annotated[str, typer.Argument(help="Run id, as listed by `meterbench runs`.")]
DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Results database: an SQLite file or a lab's postgresql:// URL (default: "
        "$METERBENCH_DB or ~/.local/share/meterbench/results.db).",
        show_default=False,
    ),
]
MeterOption = Annotated[
    str | None,
    typer.Option("--meter", help="One meter: serial number (or asset number, or position number)."),
]
OutOption = Annotated[
    Path, typer.Option("--out", help="Directory for the files (created if missing).")
]
LangOption = Annotated[
    Language, typer.Option("--lang", help="Language of the labels: zh (中文) or en.")
]


@contextmanager
def _guarded(db: str | None) -> Iterator[ResultsStore]:
    """Open an existing database for reading (StoreError if it is not there or not usable)."""
    with ResultsStore.open(
        db if db is not None else default_db_path(), create=False, read_only=True
    ) as s:
        yield s


def report(
    run: RunArgument,
    format: Annotated[
        ReportFormat,
        typer.Option(
            "--format",
            "-f",
            help="html/pdf: batch report and every original record (or one meter's record); "
            "csv/json: the run's readings and conclusions.",
        ),
    ] = ReportFormat.HTML,
    meter: MeterOption = None,
    out: OutOption = Path("reports"),
    lang: LangOption = Language.ZH,
    db: DbOption = None,
    mark_broken: Annotated[
        bool,
        typer.Option(
            "--mark-broken",
            help="Render a run whose hash chain does not verify, marked as not valid on every "
            "page (default: refuse).",
        ),
    ] = False,
) -> None:
    """Original records, the batch report, or the CSV/JSON export of a stored run."""
    from meterbench.reports.render import render_report  # PDF and plot libraries load here

    with _guarded(db) as store:
        paths = render_report(
            store,
            run,
            out,
            format.value,
            lang=lang.value,
            meter=meter,
            on_broken="mark" if mark_broken else "refuse",
        )
    for path in paths:
        typer.echo(str(path))


def certificate(
    run: RunArgument,
    meter: MeterOption = None,
    out: OutOption = Path("reports"),
    lang: LangOption = Language.ZH,
    db: DbOption = None,
    format: Annotated[
        DocumentFormat, typer.Option("--format", "-f", help="pdf or html.")
    ] = DocumentFormat.PDF,
    lab: LabOption = None,
    public_key: PublicKeyOption = None,
) -> None:
    """Certificates (meter passed) and result notices (meter failed) of a completed run whose
    chain and lab signature verify (with --lab: signed by the lab's published key)."""
    from meterbench.reports.render import render_certificates

    key = trusted_key(lab, public_key)
    with _guarded(db) as store:
        outcome = render_certificates(
            store,
            run,
            out,
            lang=lang.value,
            meter=meter,
            formats=(format.value,),
            public_key=key,
        )
    for path in outcome.paths:
        typer.echo(str(path))
    for line in outcome.skipped:
        typer.echo(f"skipped: {line}", err=True)
