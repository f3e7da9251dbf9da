"""Where the results database lives when no path is given."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "METERBENCH_DB"


def default_db_path() -> Path | str:
    """``$METERBENCH_DB``, else ``$XDG_DATA_HOME/meterbench/results.db`` (~/.local/share/...).

    One well-known file per user, so `meterbench runs` finds what `meterbench run` wrote. A
    lab sets ``$METERBENCH_DB`` to its PostgreSQL URL, which is returned as it is.
    """
    explicit = os.environ.get(ENV_VAR)
    if explicit and explicit.lower().startswith(("postgresql://", "postgres://")):
        return explicit
    if explicit:
        return Path(explicit).expanduser()
    return data_dir() / "results.db"


def data_dir() -> Path:
    """``$XDG_DATA_HOME/meterbench`` (~/.local/share/meterbench): the user's own files."""
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "meterbench"
