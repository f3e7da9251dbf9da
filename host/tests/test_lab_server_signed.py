"""The lab server with the lab's key and on a lab's PostgreSQL database: every sign-off is
signed, the public lookup checks the signature as well as the chain, so a record rewritten
and rechained by an insider without the key is reported to anyone who looks it up."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from argon2 import PasswordHasher, profiles
from fastapi.testclient import TestClient

from meterbench.config.lab import lab_key, lab_public_key
from meterbench.results import ResultsStore
from meterbench.web import auth
from meterbench.web.access import LabStore
from meterbench.web.app import create_app
from meterbench.web.auth import add_user

sys.path.insert(0, str(Path(__file__).parent))
from reports_fixtures import RUN_A, store_run  # noqa: E402
from test_signed_records import delete_last_rows, make_lab, rechain_with_edit  # noqa: E402

BENCHES = Path(__file__).resolve().parent / "benches"
PASSWORD = "correct horse 1"
USERS = {"li": ["verifier"], "chen": ["checker"], "wang": ["approver"]}


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auth, "_hasher", PasswordHasher.from_parameters(profiles.CHEAPEST))


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return make_lab(tmp_path)


@pytest.fixture
def client(db_location: str, lab: Path, tmp_path: Path) -> Iterator[TestClient]:
    """A completed run closed and signed by the bench (as the runner does), and the server
    holding the same lab key."""
    with ResultsStore.open(db_location) as store:
        store.signer = lab_key(lab)
        store_run(store, RUN_A)
    store = LabStore(db_location)
    for name, roles in USERS.items():
        add_user(store, name, name.title(), roles, PASSWORD)
    store.close()
    app = create_app(
        db_location,
        benches=[BENCHES / "runner-1p-8.toml"],
        state_dir=tmp_path / "state",
        signer=lab_key(lab),
    )
    with TestClient(app) as c:
        yield c


def _approve(client: TestClient) -> None:
    for user, stage in (("chen", "check"), ("wang", "approve")):
        client.cookies.clear()
        answer = client.post("/api/session", json={"username": user, "password": PASSWORD})
        headers = {"X-CSRF-Token": answer.json()["csrf_token"]}
        signed = client.post(f"/api/runs/{RUN_A}/signoff", json={"stage": stage}, headers=headers)
        assert signed.status_code == 200, signed.text
    client.cookies.clear()


def _lookup(client: TestClient) -> dict[str, object]:
    (entry,) = client.get("/api/public/lookup", params={"q": "SN0001"}).json()
    return entry


def test_sign_offs_are_signed_and_the_record_verifies_with_the_published_key(
    client: TestClient, db_location: str, lab: Path
) -> None:
    _approve(client)
    with ResultsStore.open(db_location, read_only=True) as store:
        found = store.verify_run(RUN_A, public_key=lab_public_key(lab))
        heads = store.signed_heads(RUN_A)
    assert found.ok, found.summary()
    assert found.signatures.state == "signed"
    assert heads[-1].rows == found.chain.rows  # the approval itself is signed
    assert len(heads) == 3  # the bench's close, the check, the approval
    check = _lookup(client)["check"]
    assert check == {
        "ok": True,
        "chain_ok": True,
        "signature_ok": True,
        "detail": "the stored record verifies, ends in this hash and carries the lab's signature",
    }


def test_a_rechained_forgery_is_reported_by_the_public_lookup(
    client: TestClient, db_location: str
) -> None:
    _approve(client)
    assert _lookup(client)["check"]["ok"] is True  # type: ignore[index]
    rechain_with_edit(db_location, RUN_A, "conclusion", outcome="pass")
    with ResultsStore.open(db_location, read_only=True) as store:
        assert store.verify_chain(RUN_A).ok  # the chain alone is fooled
    check = _lookup(client)["check"]
    assert check["ok"] is False and check["signature_ok"] is False  # type: ignore[index]
    assert "chain rewritten" in check["detail"]  # type: ignore[index]


def test_cutting_the_approval_off_is_reported_by_the_public_lookup(
    client: TestClient, db_location: str
) -> None:
    _approve(client)
    published = str(_lookup(client)["final_hash"])
    delete_last_rows(db_location, RUN_A, 1)
    entries = client.get("/api/public/lookup", params={"q": "SN0001"}).json()
    # Without its approval the run is no longer published; with it, it must not verify.
    assert entries == [] or (entries[0]["check"]["ok"] is False)
    with ResultsStore.open(db_location, read_only=True) as store:
        assert not store.verify_run(RUN_A, published).ok
