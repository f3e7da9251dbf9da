"""Fixtures shared by the host tests: the results store on SQLite and on PostgreSQL.

``db_location`` is parametrized over both back ends: an SQLite file in the test's directory,
or an empty database on the throwaway PostgreSQL server this session starts (`pg_cluster`).
A machine without PostgreSQL fails those tests with the command that installs it; it never
skips them silently.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from pg_cluster import PostgresCluster, PostgresUnavailable, start_cluster  # noqa: E402


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    try:
        cluster = start_cluster()
    except PostgresUnavailable as exc:
        pytest.fail(str(exc))
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def postgres_url(postgres_cluster: PostgresCluster) -> str:
    """An empty database of its own for one test."""
    return postgres_cluster.new_database()


@pytest.fixture(params=["sqlite", "postgresql"])
def db_location(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Where a store lives: an SQLite file path, or a PostgreSQL URL (both as text)."""
    if request.param == "sqlite":
        return str(tmp_path / "results.db")
    return request.getfixturevalue("postgres_url")
