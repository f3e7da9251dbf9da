"""Run identifiers: readable, sortable by start time, unique without coordination."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime


def new_run_id(started_at: datetime, bench: str | None = None) -> str:
    """``20260301T080000Z-<bench>-3f9a2c``: the UTC start, the bench, six random hex digits.

    Random digits (not a counter) so two benches writing one shared database never collide.
    """
    stamp = started_at.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    tag = ""
    if bench:
        cleaned = "".join(ch if ch.isalnum() or ch in "._-" else "-" for ch in bench)[:40]
        tag = f"-{cleaned.strip('-')}" if cleaned.strip("-") else ""
    return f"{stamp}{tag}-{secrets.token_hex(3)}"
