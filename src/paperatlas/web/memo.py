"""Answers remembered for one data version: work that many different URLs repeat between two changes of the store.

The response cache keeps one rendered body per URL, so two URLs that need the same costly query each pay for
it.  ``/c/cs.LG`` and ``/c/cs.LG?offset=20`` (links and crawlers add parameters the page ignores) both scan the
newest papers' category lists for cross-listings, 7-10 ms on the demo store and the largest cost of a category
page.  A :class:`VersionMemo` keeps such an answer under the same *data version* the ETags and the response cache
use (:class:`.caching.DataVersion`): an ingest, disambiguation or metrics run changes the version, so nothing is
served from here that the response cache would not serve for the same version.  It is a bounded LRU; callers
must treat what it returns as read-only (it is shared by every render thread).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any


class VersionMemo:
    """A thread-safe LRU of ``compute()`` results keyed by ``(data version, key)``."""

    def __init__(self, size: int = 1024) -> None:
        self.size = size
        self._items: OrderedDict[tuple[str, Hashable], Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, version: str, key: Hashable, compute: Callable[[], Any]) -> Any:
        """The remembered answer for ``key`` at ``version``, or ``compute()``'s (then kept).  Two threads that
        miss at once both compute: the same answer, and no thread ever waits on another's query."""
        where = (version, key)
        with self._lock:
            if where in self._items:
                self._items.move_to_end(where)
                return self._items[where]
        value = compute()
        with self._lock:
            self._items[where] = value
            self._items.move_to_end(where)
            while len(self._items) > self.size:
                self._items.popitem(last=False)
        return value
