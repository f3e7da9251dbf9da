"""Acceptance of the lab server in a real browser: Debian's Chromium, headless, driven by
Playwright, against `meterbench serve` on the simulated 8-position bench (a short plan with a
visual inspection, at 1000x simulated time).

The bench worker stops itself (SIGSTOP, the store's test hook) right after a chosen reading
committed, so each step of the test happens at the same point of the run on any machine; the
test lets it go on (SIGCONT) when it has done what it does at that point. Waiting is always
for something to appear on the page or in the process table, never for a length of time.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles

from meterbench.results import ResultsStore
from meterbench.web import auth
from meterbench.web.access import LabStore

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian's chromium package is not installed"
)
BENCHES = Path(__file__).resolve().parent / "benches"
METERBENCH = str(Path(sys.executable).with_name("meterbench"))
PASSWORD = "correct horse 1"
SAFETY_S = 180  # a hung server or browser fails the test; no step waits for a time
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`meterbench serve` in its own process; the bench worker it starts stops itself after
    the ``stop_after``-th reading."""

    def __init__(self, db: Path, port: int, stop_after: int) -> None:
        self.db, self.port, self.stop_after = db, port, stop_after
        self.process: subprocess.Popen[bytes] | None = None
        self.url = f"http://127.0.0.1:{port}"

    def start(self) -> None:
        env = dict(os.environ, METERBENCH_TEST_KILL_AFTER=f"reading:{self.stop_after}:SIGSTOP")
        self.process = subprocess.Popen(
            [
                METERBENCH,
                "serve",
                "--db",
                str(self.db),
                "--port",
                str(self.port),
                "--bench",
                str(BENCHES / "runner-1p-8.toml"),
                "--plan",
                str(BENCHES / "plan-web.toml"),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + SAFETY_S
        while True:  # until it accepts connections
            assert self.process.poll() is None, "the server exited"
            assert time.monotonic() < deadline, "the server never listened"
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(SAFETY_S)


def _state(pid: int) -> str | None:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
    except OSError:
        return None


def _until(condition, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + SAFETY_S
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def _worker_pid(db: Path) -> int:
    store = LabStore(db)
    try:
        row = store.worker("TEST-1P-8")
        assert row is not None
        return row.pid
    finally:
        store.close()


def _held(pid: int) -> None:
    _until(lambda: _state(pid) == "T", f"worker {pid} never reached its stop reading")


def _go_on(pid: int) -> None:
    os.kill(pid, signal.SIGCONT)


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "lab.db"
    store = LabStore(path)
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)  # verified at this cost too
    original = auth._hasher
    auth._hasher = cheap
    try:
        for name, roles in {
            "olga": ["operator"],
            "li": ["operator", "verifier"],
            "chen": ["checker"],
            "wang": ["approver"],
        }.items():
            auth.add_user(store, name, f"{name.title()} Full", roles, PASSWORD)
    finally:
        auth._hasher = original
        store.close()
    return path


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[object]:
    with playwright_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=CHROMIUM_ARGS,
            accept_downloads=True,
        )
        context.set_default_timeout(SAFETY_S * 1000)
        expect.set_options(timeout=SAFETY_S * 1000)
        try:
            yield context
        finally:
            context.close()


def _log_in(page, base: str, user: str, password: str = PASSWORD) -> None:  # noqa: ANN001
    page.context.clear_cookies()
    page.goto(f"{base}/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")


def _start_run(page, base: str) -> None:  # noqa: ANN001
    page.goto(f"{base}/start?bench=TEST-1P-8")
    page.set_input_files("input[name=meters_file]", str(BENCHES / "meters-8.csv"))
    page.click("#start")
    expect(page.locator("#msg")).to_contain_text("run started")


def _end_worker(db: Path) -> None:
    """After a failure: end this test's worker, so no process outlives the test."""
    try:
        pid = _worker_pid(db)
    except AssertionError:
        return
    if _state(pid) not in (None, "Z"):
        os.kill(pid, signal.SIGKILL)


def test_a_verification_from_login_to_the_public_lookup(db: Path, browser) -> None:  # noqa: ANN001
    server = Server(db, _free_port(), stop_after=2)
    server.start()
    page = browser.new_page()
    base = server.url
    try:
        _log_in(page, base, "li", "wrong password")
        expect(page.locator("#error")).to_contain_text("wrong user name or password")
        _log_in(page, base, "li")
        expect(page.locator("nav")).to_contain_text("Li Full")
        _start_run(page, base)

        pid = _worker_pid(db)
        _held(pid)  # two readings stored, the worker held right there
        page.goto(f"{base}/")
        page.locator("#benches .run a").click()
        run_id = page.locator("#run-id").inner_text()
        first = int(page.locator("#readings").inner_text())

        # pause: the request goes into the record; the worker acts on it between points
        page.click("#pause")
        expect(page.locator("#msg")).to_contain_text("pause requested")
        expect(page.locator("#paused")).to_have_text(" (pause requested)")
        _go_on(pid)
        # pushed to the open page, no reload: rows move on, then the worker's answer
        expect(page.locator("#readings")).not_to_have_text(str(first))
        expect(page.locator("#paused")).to_have_text(" (paused)")
        expect(page.locator('#positions tr[data-position="1"] .item')).to_have_text("basic_error")
        expect(page.locator('#positions tr[data-position="1"] .result')).not_to_be_empty()

        # a request without the CSRF token is refused, with the session's cookie
        forged = page.request.post(f"{base}/runs/{run_id}/control", form={"action": "abort"})
        assert forged.status == 403

        # visual inspection for every position while the run is open
        page.select_option("#manual-form select[name=item]", "visual")
        page.click("#record-manual")
        expect(page.locator("#msg")).to_contain_text("8 manual results recorded")
        page.click("#continue")
        expect(page.locator("#status")).to_have_text("completed")
        _until(lambda: _state(pid) in (None, "Z"), "the worker did not end")

        # sign-off: an operator may not approve; a checker checks, an approver approves
        _log_in(page, base, "olga")
        page.goto(f"{base}/runs/{run_id}")
        page.click("#signoff-approve")
        expect(page.locator("#error")).to_contain_text("may not approve")
        _log_in(page, base, "chen")
        page.goto(f"{base}/runs/{run_id}")
        page.click("#signoff-check")
        expect(page.locator("#msg")).to_contain_text("checked")
        _log_in(page, base, "wang")
        page.goto(f"{base}/runs/{run_id}")
        page.click("#signoff-approve")
        expect(page.locator("#msg")).to_contain_text("approved")
        expect(page.locator("#signoffs")).to_contain_text("approve: Wang Full")

        with page.expect_download() as download:
            page.locator("a.certificate").first.click()
        saved = download.value.path()
        assert saved is not None and Path(saved).read_bytes().startswith(b"%PDF")

        # anyone finds it on the public page, without logging in
        page.context.clear_cookies()
        page.goto(f"{base}/public")
        page.fill("input[name=q]", "T0001")
        page.click("#lookup")
        expect(page.locator(".conclusion")).to_contain_text("qualified")
        expect(page.locator(".check")).to_contain_text("intact")
        with ResultsStore.open(db, create=False) as store:
            published = store.final_hash(run_id)
            assert store.verify_chain(run_id, published).ok
        expect(page.locator(".hash")).to_have_text(published)
        assert run_id not in page.content()
    finally:
        server.stop()
        _end_worker(db)


def test_killing_the_server_mid_run_leaves_the_run_going(db: Path, browser) -> None:  # noqa: ANN001
    port = _free_port()
    server = Server(db, port, stop_after=3)
    server.start()
    page = browser.new_page()
    try:
        _log_in(page, server.url, "li")
        _start_run(page, server.url)
        pid = _worker_pid(db)
        _held(pid)  # the third reading is stored: now the server dies
        server.kill()
        assert _state(pid) == "T"  # the worker is untouched

        server = Server(db, port, stop_after=3)
        server.start()
        page.goto(f"{server.url}/")  # the session survived the restart too
        link = page.locator("#benches .run a")
        expect(link).to_have_text(re.compile("TEST-1P-8"))
        link.click()
        expect(page.locator("#worker")).to_have_text(str(pid))
        before = int(page.locator("#readings").inner_text())
        _go_on(pid)
        expect(page.locator("#status")).to_have_text("completed")
        assert int(page.locator("#readings").inner_text()) > before
        _until(lambda: _state(pid) in (None, "Z"), "the worker did not end")
    finally:
        server.stop()
        _end_worker(db)
