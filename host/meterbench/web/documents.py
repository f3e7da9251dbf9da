"""Documents for download, made from the stored run by the same code as the CLI (`reports`).

Certificates and result notices are issued only for an approved run; records, the batch
report, exports and plots for any run whose chain verifies. Files are rendered into a
temporary directory and handed back as bytes with their file name.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from meterbench.reports.context import load_context
from meterbench.reports.errors import ReportError
from meterbench.reports.render import render_certificates, render_report
from meterbench.results import StoreError
from meterbench.web.service import Lab, Refused, approved

KINDS = ("certificate", "record", "batch", "csv", "json")


def _one(paths: list[Path]) -> tuple[str, bytes]:
    if not paths:
        raise Refused(404, "no such document for this run")
    return paths[0].name, paths[0].read_bytes()


def document(lab: Lab, run_id: str, kind: str, meter: str | None, lang: str) -> tuple[str, bytes]:
    """(file name, content) of one document of a run."""
    if kind not in KINDS:
        raise Refused(400, f"unknown document {kind!r}: {', '.join(KINDS)}")
    if lang not in ("zh", "en"):
        raise Refused(400, "lang: zh or en")
    store = lab.store.results
    try:
        with tempfile.TemporaryDirectory(prefix="meterbench-web-") as tmp:
            out = Path(tmp)
            if kind == "certificate":
                if meter is None:
                    raise Refused(400, "name the meter (serial number)")
                if lab.signoff_required and not approved(lab, run_id):
                    raise Refused(409, f"run {run_id} is not approved: no certificate yet")
                outcome = render_certificates(store, run_id, out, lang=lang, meter=meter)
                return _one(outcome.paths)
            if kind == "record":
                if meter is None:
                    raise Refused(400, "name the meter (serial number)")
                return _one(render_report(store, run_id, out, "pdf", lang=lang, meter=meter))
            if kind == "batch":
                paths = render_report(store, run_id, out, "pdf", lang=lang)
                return _one([p for p in paths if p.name.startswith("batch")])
            return _one(render_report(store, run_id, out, kind, lang=lang, meter=meter))
    except (ReportError, StoreError) as exc:
        raise Refused(409, str(exc)) from None


def plots_svg(lab: Lab, run_id: str) -> list[tuple[str, str]]:
    """(title, SVG) of the run's error plots (error per meter and point, distributions)."""
    from meterbench.reports.plots import error_plots

    try:
        ctx = load_context(lab.store.results, run_id, "en", "mark")
    except (ReportError, StoreError) as exc:
        raise Refused(409, str(exc)) from None
    return [(image.title, image.svg) for image in error_plots(ctx)]


__all__ = ["KINDS", "document", "plots_svg"]
