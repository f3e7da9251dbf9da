"""The lab server in process (FastAPI's test client) on a stored sample run: logins and
roles, CSRF, sign-off into the hash chain, certificates only after approval, the public
lookup (anonymous, nothing internal, rate-limited, forgeries reported), the user commands."""

from __future__ import annotations

import sqlite3
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from meterbench.cli import app as cli_app
from meterbench.results import ResultsStore
from meterbench.web import auth
from meterbench.web.access import LabStore
from meterbench.web.app import create_app
from meterbench.web.auth import add_user
from meterbench.web.public import RecordCheck
from meterbench.web.service import Refused, load_benches, meter_list_from_serials

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import RUN_A, RUN_OPEN, store_run, tamper  # noqa: E402

BENCHES = Path(__file__).resolve().parent / "benches"
PASSWORD = "correct horse 1"
USERS = {
    "olga": ["operator"],
    "li": ["verifier"],
    "chen": ["checker"],
    "wang": ["approver"],
    "root": ["admin"],
    "both": ["checker", "approver"],
}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its cheapest: the tests check who gets in, not the hash's cost."""
    monkeypatch.setattr(auth, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "results.db"
    with ResultsStore.open(path) as store:
        store_run(store, RUN_A)
        store_run(store, RUN_OPEN, close=False)
    store = LabStore(path)
    for name, roles in USERS.items():
        add_user(store, name, f"{name.title()} Full", roles, PASSWORD)
    store.close()
    return path


@pytest.fixture
def client(db: Path) -> Iterator[TestClient]:
    app = create_app(
        db,
        benches=[BENCHES / "runner-1p-8.toml"],
        plans=[BENCHES / "plan-web.toml"],
        public_limit=5,
    )
    with TestClient(app) as c:
        yield c


def _login(client: TestClient, user: str) -> dict[str, str]:
    client.cookies.clear()
    answer = client.post("/api/session", json={"username": user, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    return {"X-CSRF-Token": answer.json()["csrf_token"]}


def _sign(client: TestClient, user: str, stage: str) -> tuple[int, str]:
    headers = _login(client, user)
    answer = client.post(f"/api/runs/{RUN_A}/signoff", json={"stage": stage}, headers=headers)
    return answer.status_code, answer.json()["detail"]


def test_a_wrong_password_is_refused_and_audited(client: TestClient, db: Path) -> None:
    answer = client.post("/api/session", json={"username": "chen", "password": "nope-nope"})
    assert answer.status_code == 401
    page = client.post("/login", data={"username": "chen", "password": "nope-nope"})
    assert page.status_code == 401 and "wrong user name or password" in page.text
    assert client.get("/api/runs").status_code == 401
    assert client.get("/runs", follow_redirects=False).headers["location"].startswith("/login")
    _login(client, "root")
    trail = client.get("/api/audit").json()
    assert [r["outcome"] for r in trail if r["action"] == "login"][-2:] == ["refused", "refused"]


def test_a_missing_csrf_token_is_refused(client: TestClient) -> None:
    _login(client, "chen")
    api = client.post(f"/api/runs/{RUN_A}/signoff", json={"stage": "check"})
    assert api.status_code == 403 and "CSRF" in api.json()["detail"]
    form = client.post(f"/runs/{RUN_A}/signoff", data={"stage": "check"})
    assert form.status_code == 403 and "CSRF" in form.text
    wrong = client.post(
        f"/api/runs/{RUN_A}/signoff", json={"stage": "check"}, headers={"X-CSRF-Token": "x"}
    )
    assert wrong.status_code == 403
    assert client.app.state.lab.store.load_run(RUN_A).signoffs == ()  # type: ignore[attr-defined]


def test_sign_off_checks_roles_order_and_people_and_is_chained(
    client: TestClient, db: Path
) -> None:
    assert _sign(client, "olga", "approve")[0] == 403  # an operator may not approve
    assert _sign(client, "wang", "approve") == (
        409,
        f"run {RUN_A} must be checked before it is approved",
    )
    assert _sign(client, "chen", "check")[0] == 200
    assert _sign(client, "chen", "check")[0] == 409  # once
    assert _sign(client, "both", "approve")[0] == 200
    assert _sign(client, "wang", "approve")[0] == 409
    with ResultsStore.open(db, create=False) as store:
        record = store.load_run(RUN_A)
        assert [(s.stage, s.username) for s in record.signoffs] == [
            ("check", "chen"),
            ("approve", "both"),
        ]
        assert store.verify_chain(RUN_A).ok
        rows = store.chain_rows(RUN_A)
        assert [r.table for r in rows[-2:]] == ["signoff", "signoff"]


def test_the_checker_may_not_also_approve(client: TestClient) -> None:
    assert _sign(client, "both", "check")[0] == 200
    status, detail = _sign(client, "both", "approve")
    assert status == 403 and "another user" in detail


def test_an_open_run_cannot_be_signed_off(client: TestClient) -> None:
    headers = _login(client, "chen")
    answer = client.post(f"/api/runs/{RUN_OPEN}/signoff", json={"stage": "check"}, headers=headers)
    assert answer.status_code == 409 and "running" in answer.json()["detail"]


def test_certificates_only_after_approval(client: TestClient) -> None:
    _login(client, "li")
    url = f"/api/runs/{RUN_A}/documents/certificate?meter=SN0001"
    before = client.get(url)
    assert before.status_code == 409 and "not approved" in before.json()["detail"]
    _sign(client, "chen", "check")
    _sign(client, "wang", "approve")
    _login(client, "li")
    after = client.get(url)
    assert after.status_code == 200 and after.content.startswith(b"%PDF")
    assert after.headers["content-type"] == "application/pdf"
    record = client.get(f"/api/runs/{RUN_A}/documents/record?meter=SN0001")
    assert record.status_code == 200 and record.content.startswith(b"%PDF")
    export = client.get(f"/api/runs/{RUN_A}/documents/csv")
    assert export.status_code == 200 and b"SN0001" in export.content


def _approve(client: TestClient) -> None:
    _sign(client, "chen", "check")
    _sign(client, "wang", "approve")
    client.cookies.clear()


def test_public_lookup_is_anonymous_shows_no_internals_and_is_rate_limited(
    client: TestClient,
) -> None:
    client.cookies.clear()
    assert client.get("/api/public/lookup", params={"q": "SN0001"}).json() == []  # not approved
    _approve(client)
    found = client.get("/api/public/lookup", params={"q": "SN0001"}).json()
    assert len(found) == 1
    entry = found[0]
    assert entry["document"] == "certificate" and entry["check"]["ok"] is True
    by_number = client.get("/api/public/lookup", params={"q": entry["number"]}).json()
    assert by_number == found
    page = client.get("/public", params={"q": "SN0001"})
    assert page.status_code == 200
    assert entry["final_hash"] in page.text and "intact" in page.text
    assert RUN_A not in page.text and "Li Wei" not in page.text  # nothing internal
    limited = client.get("/public", params={"q": "SN0001"})  # the 5th lookup this minute
    assert limited.status_code == 200
    assert client.get("/api/public/lookup", params={"q": "SN0001"}).status_code == 429


@pytest.mark.parametrize(
    "forgery",
    [
        "DELETE FROM signoff WHERE run_id = ? AND stage = 'check'",  # cut a row out
        "UPDATE conclusion SET outcome = 'pass' WHERE run_id = ?",  # edit without the chain
    ],
)
def test_public_lookup_reports_an_altered_record(
    client: TestClient, db: Path, forgery: str
) -> None:
    _approve(client)
    assert client.get("/api/public/lookup", params={"q": "SN0001"}).json()[0]["check"]["ok"]
    tamper(db, forgery, RUN_A)
    entry = client.get("/api/public/lookup", params={"q": "SN0001"}).json()[0]
    assert entry["check"]["ok"] is False
    assert "does not match" in entry["check"]["detail"]


def test_truncating_the_record_after_approval_is_reported(client: TestClient, db: Path) -> None:
    _approve(client)
    published = client.get("/api/public/lookup", params={"q": "SN0001"}).json()[0]["final_hash"]
    raw = sqlite3.connect(db)
    (last,) = raw.execute("SELECT MAX(seq) FROM run_status WHERE run_id = ?", [RUN_A]).fetchone()
    raw.close()
    tamper(db, "DELETE FROM run_status WHERE run_id = ? AND seq = ?", RUN_A, last)
    with ResultsStore.open(db, create=False) as store:
        assert not store.verify_chain(RUN_A, published).ok
    entry = client.get("/api/public/lookup", params={"q": "SN0001"}).json()
    assert entry == [] or entry[0]["check"]["ok"] is False


def test_the_openapi_schema_lists_the_api(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/session",
        "/api/benches",
        "/api/runs",
        "/api/runs/{run_id}/state",
        "/api/runs/{run_id}/live",
        "/api/runs/{run_id}/control",
        "/api/runs/{run_id}/manual",
        "/api/runs/{run_id}/signoff",
        "/api/runs/{run_id}/documents/{kind}",
        "/api/meters",
        "/api/lots",
        "/api/public/lookup",
    ):
        assert path in paths, path


def test_pages_render_for_a_logged_in_user(client: TestClient) -> None:
    _login(client, "li")
    for url in ("/", "/start", "/runs?q=SN0001", f"/runs/{RUN_A}", "/meters?q=SN", "/lots"):
        answer = client.get(url)
        assert answer.status_code == 200, (url, answer.text[:300])
    assert RUN_A in client.get("/runs?q=SN0001").text
    assert client.get("/audit").status_code == 403  # admins only


def test_typed_serials_make_a_meter_list() -> None:
    bench = load_benches([BENCHES / "runner-1p-8.toml"])["TEST-1P-8"]
    text = meter_list_from_serials(bench, "1p-class2-5-60a", {1: "A1", 3: " A3 "}, {1: "11"})
    assert text.splitlines() == [
        "position,type,serial,address",
        "1,1p-class2-5-60a,A1,11",
        "3,1p-class2-5-60a,A3,",
    ]
    with pytest.raises(Refused, match="position 2"):
        meter_list_from_serials(bench, "t", {2: "bad serial!"}, {})
    with pytest.raises(Refused, match="no serial"):
        meter_list_from_serials(bench, "t", {}, {})


def test_user_commands(tmp_path: Path) -> None:
    db = tmp_path / "users.db"
    runner = CliRunner()
    base = ["--db", str(db), "--password-stdin"]
    added = runner.invoke(
        cli_app,
        ["user", "add", "zhao", "--roles", "checker,approver", *base],
        input="long enough\n",
    )
    assert added.exit_code == 0, added.output
    again = runner.invoke(
        cli_app, ["user", "add", "zhao", "--roles", "checker", *base], input="x" * 9
    )
    assert again.exit_code == 2 and "exists" in again.output
    bad_role = runner.invoke(cli_app, ["user", "add", "qian", "--roles", "boss", *base], input="")
    assert bad_role.exit_code == 2 and "choose from" in bad_role.output
    short = runner.invoke(cli_app, ["user", "add", "sun", "--roles", "checker", *base], input="s\n")
    assert short.exit_code == 2 and "at least" in short.output
    changed = runner.invoke(cli_app, ["user", "passwd", "zhao", *base], input="another one\n")
    assert changed.exit_code == 0, changed.output
    store = LabStore(db)
    try:
        row = store.user("zhao")
        assert row is not None and row.password_hash.startswith("$argon2id$")
        assert "another one" not in row.password_hash
        assert store.user("sun") is None
    finally:
        store.close()


def _gone(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return True
    return stat.rsplit(")", 1)[-1].split()[0] == "Z"


def _until(condition, what: str) -> None:  # noqa: ANN001
    deadline = time.monotonic() + 600  # a safety net for a hung worker, not a measured time
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_crashed_worker_leaves_a_resumable_run(
    client: TestClient, db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    headers = _login(client, "olga")
    meters = (BENCHES / "meters-8.csv").read_text(encoding="utf-8")
    body = {"bench": "TEST-1P-8", "plan": "plan-web", "meter_list": meters}
    monkeypatch.setenv("METERBENCH_TEST_KILL_AFTER", "reading:3")  # the worker dies there
    started = client.post("/api/runs", json=body, headers=headers)
    assert started.status_code == 200, started.text
    pid = started.json()["worker"]
    _until(lambda: _gone(pid), "the worker never reached its third reading")
    client.app.state.lab.workers.wait(pid)  # type: ignore[attr-defined]
    (bench,) = client.get("/api/benches").json()
    assert bench["worker"] is None and bench["resumable"] and bench["run_id"]
    busy = client.post("/api/runs", json=body, headers=headers)
    assert busy.status_code == 409 and "resume or abort" in busy.json()["detail"]

    monkeypatch.delenv("METERBENCH_TEST_KILL_AFTER")
    resumed = client.post("/api/benches/TEST-1P-8/resume", headers=headers)
    assert resumed.status_code == 200, resumed.text
    client.app.state.lab.workers.wait(resumed.json()["worker"])  # type: ignore[attr-defined]
    state = client.get(f"/api/runs/{bench['run_id']}/state").json()
    assert state["status"] == "completed" and state["readings"] > 3
    assert {e["kind"] for e in client.get(f"/api/runs/{bench['run_id']}").json()["events"]} >= {
        "resumed"
    }


def test_the_public_lookup_uses_the_lab_s_record_checker(db: Path) -> None:
    seen: list[tuple[str, str]] = []

    def signature_refused(store: LabStore, run_id: str, published: str) -> RecordCheck:
        seen.append((run_id, published))
        return RecordCheck(False, True, False, "the signature does not match the lab's key")

    app = create_app(db, benches=[BENCHES / "runner-1p-8.toml"], checker=signature_refused)
    with TestClient(app) as client:
        _approve(client)
        (entry,) = client.get("/api/public/lookup", params={"q": "SN0001"}).json()
    assert entry["check"] == {
        "ok": False,
        "chain_ok": True,
        "signature_ok": False,
        "detail": "the signature does not match the lab's key",
    }
    assert seen == [(RUN_A, entry["final_hash"])]


def test_serve_refuses_an_unusable_database_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database at all")
    result = CliRunner().invoke(cli_app, ["serve", "--db", str(bad), "--port", "1"])
    assert result.exit_code == 2
    assert len(result.output.strip().splitlines()) == 1 and "bad.db" in result.output
    assert bad.read_bytes() == b"not a database at all"
