"""Users, roles, passwords and sessions of the lab server.

Passwords are kept only as Argon2id hashes (argon2-cffi). A session is a random token in an
HttpOnly cookie; the database keeps only its SHA-256, so a copy of the database opens no
session. Each session has its own CSRF token, which every state-changing request must send
back (a form field or the ``X-CSRF-Token`` header).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from meterbench.web.access import LabStore

ROLES = ("operator", "verifier", "checker", "approver", "admin")
SESSION_HOURS = 12
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
MIN_PASSWORD = 8

# What each role may do. Everyone logged in may look at everything.
CAN_RUN = frozenset({"operator", "verifier", "admin"})  # start, pause, abort, take out
CAN_RECORD = frozenset({"operator", "verifier"})  # manual items
CAN_CHECK = frozenset({"checker"})  # 核验
CAN_APPROVE = frozenset({"approver"})  # 批准
CAN_ADMIN = frozenset({"admin"})

_hasher = PasswordHasher()


class AuthError(Exception):
    """A refused login or a request the user may not make."""


@dataclass(frozen=True, slots=True)
class User:
    username: str
    full_name: str
    roles: frozenset[str]
    csrf_token: str = ""

    def may(self, allowed: frozenset[str]) -> bool:
        return bool(self.roles & allowed)


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"a password needs at least {MIN_PASSWORD} characters"
    return None


def user_problem(username: str, roles: list[str]) -> str | None:
    if not _USERNAME.match(username):
        return f"user name {username!r}: letters, digits, '.', '_' or '-' (at most 64)"
    unknown = [r for r in roles if r not in ROLES]
    if unknown or not roles:
        return f"roles {','.join(roles) or '(none)'}: choose from {', '.join(ROLES)}"
    return None


def add_user(
    store: LabStore, username: str, full_name: str, roles: list[str], password: str
) -> None:
    problem = user_problem(username, roles) or password_problem(password)
    if problem is None and store.user(username) is not None:
        problem = f"user {username} exists already (change the password with 'user passwd')"
    if problem:
        raise AuthError(problem)
    store.add_user(username, full_name or username, roles, hash_password(password))


def change_password(store: LabStore, username: str, password: str) -> None:
    if store.user(username) is None:
        raise AuthError(f"no user {username}")
    if problem := password_problem(password):
        raise AuthError(problem)
    store.set_password(username, hash_password(password))


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def login(store: LabStore, username: str, password: str) -> str:
    """Check the password; return a new session token (raise `AuthError` if refused)."""
    row = store.user(username)
    if row is None or not row.active:
        _hasher.hash(password)  # the same work either way: no user enumeration by timing
        raise AuthError("wrong user name or password")
    try:
        _hasher.verify(row.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        raise AuthError("wrong user name or password") from None
    if _hasher.check_needs_rehash(row.password_hash):
        store.set_password(username, hash_password(password))
    token = secrets.token_urlsafe(32)
    expires = datetime.now(UTC) + timedelta(hours=SESSION_HOURS)
    store.add_session(_token_hash(token), username, secrets.token_urlsafe(24), expires)
    return token


def session_user(store: LabStore, token: str | None) -> User | None:
    """The user of a live session, or None."""
    if not token:
        return None
    found = store.session(_token_hash(token))
    if found is None or found.expires_at < datetime.now(UTC):
        return None
    row = store.user(found.username)
    if row is None or not row.active:
        return None
    return User(row.username, row.full_name, row.roles, found.csrf_token)


def logout(store: LabStore, token: str | None) -> None:
    if token:
        store.drop_session(_token_hash(token))


def csrf_ok(user: User, sent: str | None) -> bool:
    return bool(sent) and secrets.compare_digest(user.csrf_token, sent or "")


__all__ = [
    "CAN_ADMIN",
    "CAN_APPROVE",
    "CAN_CHECK",
    "CAN_RECORD",
    "CAN_RUN",
    "ROLES",
    "AuthError",
    "User",
    "add_user",
    "change_password",
    "csrf_ok",
    "login",
    "logout",
    "session_user",
]
