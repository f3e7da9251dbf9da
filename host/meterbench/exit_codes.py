"""The exit codes of every ``meterbench`` command: one table, shown by ``--help`` and the
README, so scripts and lab servers can tell a finished run from one to resume."""

from __future__ import annotations

EXIT_CODES: tuple[tuple[int, str], ...] = (
    (0, "done (a run: completed, its record final)"),
    (1, "the run stopped on a bench fault; outputs safe, resumable with `meterbench resume`"),
    (2, "bad input or unusable database: one line says what, nothing started or lost"),
    (3, "the run was aborted (`meterbench abort`): final, no certificate"),
    (130, "interrupted by SIGINT (Ctrl-C): outputs safe, resumable"),
    (143, "interrupted by SIGTERM: outputs safe, resumable"),
)


def exit_code_help() -> str:
    """The table as help text (one line per code)."""
    lines = "\n\n".join(f"{code}: {meaning}" for code, meaning in EXIT_CODES)
    return f"Exit codes:\n\n{lines}"


__all__ = ["EXIT_CODES", "exit_code_help"]
