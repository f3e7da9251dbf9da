"""Where the results database lives when no path is given."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "METERBENCH_DB"


def default_db_path() -> Path:
    """``$METERBENCH_DB``, else ``$XDG_DATA_HOME/meterbench/results.db`` (~/.local/share/...).

    One well-known file per user, so `meterbench runs` finds what `meterbench run` wrote.
    """
    explicit = os.environ.get(ENV_VAR)
    if explicit:
        return Path(explicit).expanduser()
    data_home = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(data_home).expanduser() / "meterbench" / "results.db"
