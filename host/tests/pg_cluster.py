"""A throwaway PostgreSQL cluster for the tests: initdb and pg_ctl in a temporary directory.

The test suite starts its own server (never one started by hand, never the machine's own
cluster): data and the Unix socket live in a fresh directory, the server listens on no TCP
address, and it is stopped and removed when the session ends. PostgreSQL refuses to run as
root, so under root the cluster belongs to the ``postgres`` user that Debian's package
creates. `scripts/install-test-services` installs the server on a fresh machine.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

BINDIR_ENV = "METERBENCH_PG_BINDIR"
PORT = 5432  # the socket lives in our own directory, so the port clashes with nothing


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server programs on this machine."""


def find_bindir() -> Path:
    """Where initdb and pg_ctl are: $METERBENCH_PG_BINDIR, else Debian's newest version."""
    explicit = os.environ.get(BINDIR_ENV)
    candidates = [explicit] if explicit else []
    found = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(found, key=lambda p: int(Path(p).parent.name), reverse=True)
    for candidate in candidates:
        if candidate and (Path(candidate) / "initdb").exists():
            return Path(candidate)
    raise PostgresUnavailable(
        "no PostgreSQL server found (initdb, pg_ctl): run scripts/install-test-services "
        f"or set {BINDIR_ENV}"
    )


@dataclass
class PostgresCluster:
    """One running server; `new_database()` hands out an empty database URL per test."""

    bindir: Path
    root: Path
    _names: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def data(self) -> Path:
        return self.root / "data"

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://postgres@/{database}?host={self.root}&port={PORT}"

    def _run(self, *args: str) -> None:
        user = "postgres" if os.geteuid() == 0 else None
        subprocess.run(
            [str(self.bindir / args[0]), *args[1:]],
            check=True,
            user=user,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.root,
        )

    def start(self) -> None:
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust",
                  "-E", "UTF8", "--locale=C", "--no-sync")  # fmt: skip
        options = (
            f"-c listen_addresses='' -c unix_socket_directories='{self.root}' -p {PORT} "
            "-c fsync=off -c full_page_writes=off -c max_connections=200"
        )
        self._run("pg_ctl", "-D", str(self.data), "-o", options,
                  "-l", str(self.root / "server.log"), "-w", "start")  # fmt: skip

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def new_database(self) -> str:
        """A new empty database on the server; its URL."""
        import psycopg
        from psycopg import sql

        name = f"t{next(self._names)}"
        with psycopg.connect(self.url(), autocommit=True) as admin:
            admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)


def start_cluster() -> PostgresCluster:
    """Initialise and start a cluster in a new temporary directory (owned by ``postgres``
    when running as root)."""
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="meterbench-pg-"))
    if os.geteuid() == 0:
        owner = pwd.getpwnam("postgres")
        os.chown(root, owner.pw_uid, owner.pw_gid)
    cluster = PostgresCluster(bindir, root)
    try:
        cluster.start()
    except subprocess.CalledProcessError as exc:
        log = root / "server.log"
        detail = exc.stderr.decode(errors="replace") if exc.stderr else ""
        if log.exists():
            detail += log.read_text(errors="replace")[-2000:]
        cluster.stop()
        raise PostgresUnavailable(f"the test PostgreSQL server did not start: {detail}") from None
    return cluster
