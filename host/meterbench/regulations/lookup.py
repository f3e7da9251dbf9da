"""Finding the profile row that applies to a class (and connection): one place for the
"no such row" message, so a gap in a profile reads the same everywhere."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar

R = TypeVar("R")


class NotInProfile(LookupError):
    """The profile has no entry for what was asked (e.g. a class it does not cover)."""


def find_row(rows: Iterable[R], match: Callable[[R], bool], what: str, profile_id: str) -> R:
    """The first row that matches, or NotInProfile naming what was missing."""
    for row in rows:
        if match(row):
            return row
    raise NotInProfile(f"profile {profile_id} has no {what}")
