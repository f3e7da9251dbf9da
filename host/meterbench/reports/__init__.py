"""Reports: original records, certificates and result notices, batch reports and exports,
rendered from the results store alone (no bench, no simulator, no config file).

    from meterbench.reports import render_run
    with ResultsStore.open(db, create=False) as store:
        paths = render_run(store, run_id, out_dir, lang="zh")

See README.md in this directory for the documents, the certificate numbering, the export
schema and how tamper evidence is shown. Names are imported on first use, so `meterbench`
starts without loading the PDF and plotting libraries.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_EXPORTS = {
    "ReportContext": "context",
    "load_context": "context",
    "ChainBrokenError": "errors",
    "NoVerdictError": "errors",
    "NumberFormatError": "errors",
    "ReportError": "errors",
    "RunNotClosedError": "errors",
    "UnknownMeterError": "errors",
    "CSV_COLUMNS": "export",
    "RunExport": "export",
    "run_export": "export",
    "schema": "export",
    "CsvFileExporter": "exporters",
    "Exporter": "exporters",
    "FileExporter": "exporters",
    "JsonFileExporter": "exporters",
    "ALL_FORMATS": "render",
    "CertificateOutcome": "render",
    "render_certificates": "render",
    "render_report": "render",
    "render_run": "render",
    "write_documents": "render",
}

__all__ = [
    "ALL_FORMATS",
    "CSV_COLUMNS",
    "CertificateOutcome",
    "ChainBrokenError",
    "CsvFileExporter",
    "Exporter",
    "FileExporter",
    "JsonFileExporter",
    "NoVerdictError",
    "NumberFormatError",
    "ReportContext",
    "ReportError",
    "RunExport",
    "RunNotClosedError",
    "UnknownMeterError",
    "load_context",
    "render_certificates",
    "render_report",
    "render_run",
    "run_export",
    "schema",
    "write_documents",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'meterbench.reports' has no attribute {name!r}")
    return getattr(import_module(f"meterbench.reports.{module}"), name)


if TYPE_CHECKING:
    from meterbench.reports.context import ReportContext, load_context
    from meterbench.reports.errors import (
        ChainBrokenError,
        NoVerdictError,
        NumberFormatError,
        ReportError,
        RunNotClosedError,
        UnknownMeterError,
    )
    from meterbench.reports.export import CSV_COLUMNS, RunExport, run_export, schema
    from meterbench.reports.exporters import (
        CsvFileExporter,
        Exporter,
        FileExporter,
        JsonFileExporter,
    )
    from meterbench.reports.render import (
        ALL_FORMATS,
        CertificateOutcome,
        render_certificates,
        render_report,
        render_run,
        write_documents,
    )
