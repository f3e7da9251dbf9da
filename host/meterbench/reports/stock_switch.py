"""A per-thread switch back to a library's own code path, to compare a faster path with it."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class StockSwitch:
    """On (`stock` true) only inside `use_stock()`, and only in the thread that entered it."""

    def __init__(self) -> None:
        self._local = threading.local()

    @property
    def stock(self) -> bool:
        return getattr(self._local, "stock", False)

    @contextmanager
    def use_stock(self) -> Iterator[None]:
        saved = self.stock
        self._local.stock = True
        try:
            yield
        finally:
            self._local.stock = saved
