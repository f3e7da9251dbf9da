"""``meterbench demo --serve``: the demo batch on the simulated bench, watched in the browser.

Creates the demo's database and three demo users (a verifier, a checker, an approver, who
share one printed password), starts the demo run in a bench worker, opens the run's bench
page in the browser and serves until Ctrl-C. The worker goes on if the server stops.
"""

from __future__ import annotations

import threading
import webbrowser
from pathlib import Path

import typer

from meterbench.web.auth import add_user
from meterbench.web.service import start_run

DEMO_PASSWORD = "meterbench-demo"
DEMO_USERS = (
    ("demo", "Demo Verifier", ["operator", "verifier"]),
    ("demo-checker", "Demo Checker", ["checker"]),
    ("demo-approver", "Demo Approver", ["approver"]),
)


def serve_demo(
    database: str | Path,
    bench: Path,
    plan: Path,
    meters: Path,
    time_scale: float | None,
    port: int,
) -> None:
    import uvicorn

    from meterbench.web.app import create_app
    from meterbench.web.auth import User

    app = create_app(database, benches=[bench], plans=[plan], time_scale=time_scale)
    lab = app.state.lab
    for username, name, roles in DEMO_USERS:
        if lab.store.user(username) is None:
            add_user(lab.store, username, name, roles, DEMO_PASSWORD)
    bench_id = next(iter(lab.benches))
    if lab.workers.state(bench_id).run_id is None:
        verifier = User("demo", "Demo Verifier", frozenset({"operator", "verifier"}))
        start_run(lab, verifier, bench_id, plan.stem, meters.read_text(encoding="utf-8"), "demo")
    url = f"http://127.0.0.1:{port}/"
    typer.echo(
        f"lab server: {url}  (log in as demo, demo-checker or demo-approver, "
        f"password {DEMO_PASSWORD}); Ctrl-C stops the server, not the run"
    )
    threading.Timer(1.0, lambda: webbrowser.open(url)).start()
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", timeout_graceful_shutdown=2)


__all__ = ["DEMO_PASSWORD", "DEMO_USERS", "serve_demo"]
