"""Schema version 4: the lab server's users, sessions, audit trail and bench workers, and the
chained sign-off record of a run.

Users, sessions and workers change (a password is reset, a session ends, a worker is
replaced), so they are plain tables outside the hash chains; the audit trail only grows. A
sign-off is evidence about a run, so it is a chained row of that run like any other.
"""

from __future__ import annotations

DESCRIPTION = "lab server: users, sessions, audit trail, bench workers; run sign-offs"

STATEMENTS: tuple[str, ...] = (
    """CREATE TABLE lab_user (
    username TEXT NOT NULL PRIMARY KEY,
    full_name TEXT NOT NULL,
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    active INTEGER NOT NULL,
    created_at TEXT NOT NULL
)""",
    """CREATE TABLE lab_session (
    token_hash TEXT NOT NULL PRIMARY KEY,
    username TEXT NOT NULL,
    csrf_token TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    FOREIGN KEY (username) REFERENCES lab_user (username)
)""",
    """CREATE TABLE audit_log (
    recorded_at TEXT NOT NULL,
    username TEXT,
    action TEXT NOT NULL,
    target TEXT,
    outcome TEXT NOT NULL,
    detail TEXT,
    client TEXT
)""",
    "CREATE INDEX audit_log_time ON audit_log (recorded_at)",
    """CREATE TABLE bench_worker (
    bench_id TEXT NOT NULL PRIMARY KEY,
    pid INTEGER NOT NULL,
    run_id TEXT,
    started_at TEXT NOT NULL,
    command TEXT NOT NULL
)""",
    """CREATE TABLE signoff (
    run_id TEXT NOT NULL,
    stage TEXT NOT NULL,
    recorded_at TEXT NOT NULL,
    username TEXT NOT NULL,
    full_name TEXT NOT NULL,
    note TEXT,
    seq INTEGER NOT NULL,
    prev_hash TEXT NOT NULL,
    row_hash TEXT NOT NULL,
    UNIQUE (run_id, seq),
    PRIMARY KEY (run_id, stage),
    FOREIGN KEY (run_id) REFERENCES run (run_id)
)""",
)
