"""What each process of a document batch imports: work it need not do is time the batch waits.

The process that hands documents out lists their characters and cuts the font: it needs no
PDF or HTML renderer. Render workers re-run the main module of the process that started them
(multiprocessing does, to find what it defines); for the ``meterbench`` console script that
must not mean importing every command.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from importlib.metadata import entry_points
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import RUN_A, build_database  # noqa: E402

COMMAND_TREE = ("meterbench.cli", "typer", "rich")


def _run(script: str, *args: object) -> str:
    done = subprocess.run(
        [sys.executable, *map(str, args)] if not script else [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_the_console_script_imports_no_command_before_it_runs() -> None:
    (script,) = entry_points(group="console_scripts", name="meterbench")
    loaded = _run(
        f"import sys; import {script.module}; "
        f"print(sorted(m for m in {COMMAND_TREE!r} if m in sys.modules))"
    )
    assert loaded == "[]"


def test_render_workers_of_the_console_script_import_no_command(tmp_path: Path) -> None:
    (script,) = entry_points(group="console_scripts", name="meterbench")
    main = tmp_path / "meterbench"  # what pip writes for the console script, then a batch
    main.write_text(
        textwrap.dedent(
            f"""
            import sys
            from {script.module} import {script.attr}
            if __name__ == "__main__":
                from meterbench.reports.parallel import PARALLEL_FROM, render_pool
                with render_pool(PARALLEL_FROM, workers=2) as pool:
                    assert pool is not None
                    query = "sorted(m for m in {COMMAND_TREE!r} if m in __import__('sys').modules)"
                    print(pool.submit(eval, query).result())
            """
        )
    )
    assert _run("", main) == "[]"


def test_the_process_handing_out_documents_imports_no_renderer(tmp_path: Path) -> None:
    db = build_database(tmp_path / "results.db")
    loaded = _run(
        textwrap.dedent(
            f"""
            import sys
            from meterbench.reports import load_context
            from meterbench.reports.render import report_documents, shared_fonts
            from meterbench.results import ResultsStore
            with ResultsStore.open({str(db)!r}, create=False) as store:
                docs = report_documents(load_context(store, {RUN_A!r}, "zh"))
            fonts, css = shared_fonts(docs, ["html", "pdf"])
            assert fonts is not None and css
            print(sorted(m for m in ("fpdf", "jinja2") if m in sys.modules))
            """
        )
    )
    assert loaded == "[]"
