"""Records a third party can check: the lab's Ed25519 signature over each closed run's head.

The forgeries of issue 18 on both back ends: deleting the last rows of a run, and editing a
conclusion then recomputing the whole chain without the key. Both must be reported by
`meterbench records verify` (which passed both before signatures existed).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any, LiteralString, cast

import pytest
from typer.testing import CliRunner

from meterbench.cli import app
from meterbench.config.errors import ConfigError
from meterbench.config.lab import lab_key, lab_public_key
from meterbench.results import ResultsStore
from meterbench.results.chain import row_hash
from meterbench.results.sample import store_sample_run
from meterbench.results.schema import TABLES
from meterbench.results.signing import LabKey, PublicKey, SignedHead, check_heads, head_message

EXAMPLE_LAB = Path(__file__).parents[2] / "bench_configs" / "labs" / "example-lab.toml"


def make_lab(folder: Path) -> Path:
    """A copy of the example lab profile that signs with a key in ``folder``."""
    text = EXAMPLE_LAB.read_text(encoding="utf-8")
    lab = folder / "lab.toml"
    lab.write_text(text + '\n[signing]\nkey_file = "lab-signing.pem"\n', encoding="utf-8")
    result = CliRunner().invoke(app, ["lab", "keygen", "--lab", str(lab)])
    assert result.exit_code == 0, result.output
    return lab


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    return make_lab(tmp_path)


def signed_run(location: str, lab: Path, run_id: str = "RUN-S") -> str:
    """A sample run closed by a store that holds the lab's key (as the runner's does)."""
    with ResultsStore.open(location) as store:
        store.signer = lab_key(lab)
        store_sample_run(store, run_id)
    return run_id


def _raw_execute(location: str, statements: list[tuple[str, tuple[object, ...]]]) -> None:
    """Change the database as an insider with full access would: guards off, rows edited."""
    if location.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(location) as raw:
            raw.execute("SET session_replication_role = replica")  # triggers off
            for sql, params in statements:
                raw.execute(cast(LiteralString, sql.replace("?", "%s")), params)
        return
    raw = sqlite3.connect(location)
    for (name,) in raw.execute("SELECT name FROM sqlite_master WHERE type = 'trigger'").fetchall():
        raw.execute(f"DROP TRIGGER {name}")
    for sql, params in statements:
        raw.execute(sql, params)
    raw.commit()
    raw.close()


def _verify(location: str, run_id: str, *extra: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["records", "verify", run_id, "--db", location, *extra])
    return result.exit_code, result.output


def delete_last_rows(location: str, run_id: str, count: int) -> None:
    with ResultsStore.open(location, read_only=True) as store:
        rows = store.chain_rows(run_id)
    doomed = rows[-count:]
    _raw_execute(
        location,
        [(f"DELETE FROM {r.table} WHERE run_id = ? AND seq = ?", (run_id, r.seq)) for r in doomed],
    )


def rechain_with_edit(location: str, run_id: str, table: str, **changes: object) -> None:
    """Edit the first row of ``table`` that the change alters, and recompute every hash
    after it: the chain alone then verifies, as it would for anyone with database access but
    not the lab's key."""
    with ResultsStore.open(location, read_only=True) as store:
        rows = store.chain_rows(run_id)
    statements: list[tuple[str, tuple[object, ...]]] = []
    prev = rows[0].prev_hash
    edited = False
    for row in rows:
        content: dict[str, Any] = dict(row.content)
        differs = any(content.get(k) != v for k, v in changes.items())
        if row.table == table and not edited and differs:
            content.update(changes)
            edited = True
            sets = ", ".join(f"{k} = ?" for k in changes)
            statements.append(
                (
                    f"UPDATE {table} SET {sets} WHERE run_id = ? AND seq = ?",
                    (*changes.values(), run_id, row.seq),
                )
            )
        digest = row_hash(row.table, prev, content)
        statements.append(
            (
                f"UPDATE {row.table} SET prev_hash = ?, row_hash = ? WHERE run_id = ? AND seq = ?",
                (prev, digest, run_id, row.seq),
            )
        )
        prev = digest
    assert edited
    _raw_execute(location, statements)


# -- keys ----------------------------------------------------------------------------------


def test_keygen_writes_a_private_key_once_and_prints_the_public_key(tmp_path, lab):
    key_path = tmp_path / "lab-signing.pem"
    assert key_path.stat().st_mode & 0o777 == 0o600
    key = lab_key(lab)
    assert key is not None and lab_public_key(lab) == key.public
    again = CliRunner().invoke(app, ["lab", "keygen", "--lab", str(lab)])
    assert again.exit_code == 2 and "never overwritten" in again.output
    exported = CliRunner().invoke(app, ["lab", "public-key", "--lab", str(lab)])
    assert exported.exit_code == 0 and exported.stdout.strip() == key.public.text
    pem = CliRunner().invoke(app, ["lab", "public-key", "--lab", str(lab), "--pem"])
    assert PublicKey.parse(pem.stdout) == key.public


def test_a_missing_key_file_or_a_wrong_published_key_is_a_config_error(tmp_path, lab):
    (tmp_path / "lab-signing.pem").rename(tmp_path / "elsewhere.pem")
    with pytest.raises(ConfigError, match="signing.key_file"):
        lab_key(lab)
    (tmp_path / "elsewhere.pem").rename(tmp_path / "lab-signing.pem")
    other = LabKey.generate().public.text
    lab.write_text(lab.read_text() + f'public_key = "{other}"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="signing.public_key"):
        lab_key(lab)


def test_the_signed_message_is_the_documented_canonical_json():
    key = LabKey.generate()
    head = SignedHead("R", 3, "ab" * 32, _at(), key.public.key_id, key.public.text, "")
    message = head_message("R", 3, "ab" * 32, _at(), key.public.key_id)
    assert message == head.message()
    assert message.startswith(b'{"final_hash":"' + b"ab" * 32 + b'","format":"meterbench-')
    assert b'"rows":3,"run_id":"R"' in message


def _at():
    from datetime import UTC, datetime

    return datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


# -- signing and verifying -----------------------------------------------------------------


def test_a_closed_run_is_signed_and_verifies_with_the_published_key(db_location, lab):
    run_id = signed_run(db_location, lab)
    with ResultsStore.open(db_location, read_only=True) as store:
        heads = store.signed_heads(run_id)
        chain = store.verify_chain(run_id)
    assert [(h.rows, h.final_hash) for h in heads] == [(chain.rows, chain.final_hash)]
    code, output = _verify(db_location, run_id, "--lab", str(lab))
    assert code == 0, output
    assert "signature valid" in output and "lab's published key" in output


def test_signing_the_current_head_after_a_later_record(db_location, lab):
    """A record appended to a run later (a sign-off) is covered by signing the head again."""
    from meterbench.results import Event, Severity

    key = lab_key(lab)
    assert key is not None
    with ResultsStore.open(db_location) as store:
        store.signer = key
        run_id = store_sample_run(store, "RUN-L", close=False).run_id
        store.append(Event(run_id=run_id, at=_at(), severity=Severity.INFO, kind="x", message="m"))
        first = store.sign_head(run_id, key)
        assert store.sign_head(run_id, key) == first  # the same head: the stored signature
        store.append(Event(run_id=run_id, at=_at(), severity=Severity.INFO, kind="y", message="m"))
        second = store.sign_head(run_id, key)
        assert second.rows == first.rows + 1
        assert store.verify_run(run_id, public_key=key.public).ok


def test_deleting_the_last_rows_is_reported(db_location, lab):
    run_id = signed_run(db_location, lab)
    delete_last_rows(db_location, run_id, 2)
    code, output = _verify(db_location, run_id, "--lab", str(lab))
    assert code == 1
    assert "rows removed: the signed head covers" in output
    # even without the lab's key at hand, the stored head shows the cut
    code, output = _verify(db_location, run_id)
    assert code == 1 and "rows removed" in output


def test_a_rechained_edit_without_the_key_is_reported(db_location, lab):
    run_id = signed_run(db_location, lab)
    rechain_with_edit(db_location, run_id, "conclusion", outcome="pass")
    with ResultsStore.open(db_location, read_only=True) as store:
        assert store.verify_chain(run_id).ok  # the chain alone is fooled
    code, output = _verify(db_location, run_id, "--lab", str(lab))
    assert code == 1
    assert "chain intact" in output and "chain rewritten" in output


def test_a_rechained_edit_re_signed_with_another_key_is_reported(db_location, lab, tmp_path):
    run_id = signed_run(db_location, lab)
    rechain_with_edit(db_location, run_id, "conclusion", outcome="pass")
    _raw_execute(db_location, [("DELETE FROM run_signature WHERE run_id = ?", (run_id,))])
    with ResultsStore.open(db_location) as store:
        store.sign_head(run_id, LabKey.generate())
    code, output = _verify(db_location, run_id, "--lab", str(lab))
    assert code == 1 and "not by the lab's key" in output


def test_a_closed_run_without_signature_fails_when_the_lab_signs(db_location, lab):
    with ResultsStore.open(db_location) as store:
        run_id = store_sample_run(store, "RUN-U").run_id
    code, output = _verify(db_location, run_id, "--lab", str(lab))
    assert code == 1 and "carries no lab signature" in output
    code, output = _verify(db_location, run_id)  # a lab that signs nothing: chain only
    assert code == 0 and "not signed" in output
    signed = CliRunner().invoke(
        app, ["records", "sign", run_id, "--lab", str(lab), "--db", db_location]
    )
    assert signed.exit_code == 0, signed.output
    assert _verify(db_location, run_id, "--lab", str(lab))[0] == 0


def test_a_broken_chain_is_never_signed(tmp_path, lab):
    location = str(tmp_path / "r.db")
    with ResultsStore.open(location) as store:
        run_id = store_sample_run(store, "RUN-B", close=False).run_id
    rechain_with_edit(location, run_id, "conclusion", outcome="pass")
    _raw_execute(location, [("UPDATE conclusion SET outcome = 'fail' WHERE run_id = ?", (run_id,))])
    result = CliRunner().invoke(
        app, ["records", "sign", run_id, "--lab", str(lab), "--db", location]
    )
    assert result.exit_code == 1 and "was not signed" in result.output


def test_check_heads_names_a_signature_that_does_not_verify(tmp_path, lab):
    location = str(tmp_path / "r.db")
    run_id = signed_run(location, lab)
    with ResultsStore.open(location, read_only=True) as store:
        rows, heads = store.chain_rows(run_id), store.signed_heads(run_id)
        chain = store.verify_chain(run_id)
    forged = [SignedHead(**{**_fields(heads[0]), "signature": heads[0].signature[::-1]})]
    report = check_heads(chain, rows, forged, closed=True, trusted=lab_public_key(lab))
    assert not report.ok and "does not verify" in (report.problem or "")
    assert len(TABLES) >= 12  # every chained table is covered by the rows checked


def _fields(head: SignedHead) -> dict[str, object]:
    return {name: getattr(head, name) for name in SignedHead.__slots__}  # type: ignore[attr-defined]
