"""``meterbench serve`` and ``meterbench user add/passwd`` (registered in `meterbench.cli`).

Bad input (an unusable database, an unknown role, a short password) is one line on stderr
and exit status 2, with nothing stored.
"""

from __future__ import annotations

import getpass
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from meterbench.config.locate import BENCHES, PLANS, locate
from meterbench.results import StoreError
from meterbench.results.paths import default_db_path
from meterbench.web.access import LabStore
from meterbench.web.auth import ROLES, AuthError, add_user, change_password, user_problem

user_app = typer.Typer(help="Users of the lab server and their roles.", no_args_is_help=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--db",
        help="Results database: an SQLite file or a lab's postgresql:// URL (default: "
        "$METERBENCH_DB or the user's data directory).",
    ),
]


def _fail(message: str) -> typer.Exit:
    sys.stdout.flush()
    sys.stderr.write(f"meterbench: {message}\n")
    return typer.Exit(2)


def _open(db: str | None) -> LabStore:
    try:
        return LabStore(db if db is not None else default_db_path())
    except StoreError as exc:
        raise _fail(str(exc)) from None


def _password(given: str | None) -> str:
    """From --password-stdin's line, $METERBENCH_PASSWORD, or asked twice on the terminal."""
    if given is not None:
        return given
    if env := os.environ.get("METERBENCH_PASSWORD"):
        return env
    first = getpass.getpass("password: ")
    if getpass.getpass("again: ") != first:
        raise _fail("the two passwords differ")
    return first


PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
]


@user_app.command("add")
def user_add(
    username: Annotated[str, typer.Argument(help="Login name.")],
    roles: Annotated[str, typer.Option("--roles", help=f"Comma-separated: {', '.join(ROLES)}.")],
    name: Annotated[str, typer.Option("--name", help="Full name as documents print it.")] = "",
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Add a user with roles; the password is stored only as an Argon2id hash."""
    wanted = [r.strip() for r in roles.split(",") if r.strip()]
    if problem := user_problem(username, wanted):
        raise _fail(problem)
    secret = _password(sys.stdin.readline().rstrip("\n") if password_stdin else None)
    store = _open(db)
    try:
        add_user(store, username, name or username, wanted, secret)
        store.audit(None, "user.add", username, "ok", ",".join(wanted), "cli")
    except AuthError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    typer.echo(f"user {username} added ({', '.join(sorted(wanted))})")


@user_app.command("passwd")
def user_passwd(
    username: Annotated[str, typer.Argument(help="Login name.")],
    password_stdin: PasswordStdin = False,
    db: DbOption = None,
) -> None:
    """Set a user's password (ends the user's open sessions)."""
    secret = _password(sys.stdin.readline().rstrip("\n") if password_stdin else None)
    store = _open(db)
    try:
        change_password(store, username, secret)
        store.audit(None, "user.passwd", username, "ok", None, "cli")
    except AuthError as exc:
        raise _fail(str(exc)) from None
    finally:
        store.close()
    typer.echo(f"password of {username} changed")


def serve(
    db: DbOption = None,
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
    bench: Annotated[
        list[str] | None,
        typer.Option(
            "--bench", help="A bench the server offers (repeatable; default: shipped ones)."
        ),
    ] = None,
    plan: Annotated[
        list[str] | None,
        typer.Option(
            "--plan", help="A plan the server offers (repeatable; default: shipped ones)."
        ),
    ] = None,
    time_scale: Annotated[
        float | None,
        typer.Option(help="Simulated benches only: simulated seconds per wall second."),
    ] = None,
    public_limit: Annotated[
        int, typer.Option(help="Public lookups per client address and minute.")
    ] = 30,
    lab: Annotated[
        Path | None,
        typer.Option(
            "--lab",
            envvar="METERBENCH_LAB",
            help="Lab profile whose key signs each sign-off and checks public lookups "
            "(default: $METERBENCH_LAB).",
        ),
    ] = None,
) -> None:
    """The lab server: live benches, runs, sign-off, documents, public lookup, JSON API."""
    import uvicorn

    from meterbench.config.lab import lab_key
    from meterbench.web.app import create_app

    database = db if db is not None else default_db_path()
    signer = lab_key(lab) if lab is not None else None  # a ConfigError names the lab file
    benches = [locate(b, BENCHES) for b in bench or []]
    plans = [locate(p, PLANS) for p in plan or []]
    try:
        app = create_app(
            database,
            benches=benches,
            plans=plans,
            time_scale=time_scale,
            public_limit=public_limit,
            signer=signer,
        )
    except StoreError as exc:
        raise _fail(str(exc)) from None
    typer.echo(f"meterbench lab server on http://{host}:{port}/ (database {database})")
    sys.stdout.flush()
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=2)


__all__ = ["serve", "user_app"]
