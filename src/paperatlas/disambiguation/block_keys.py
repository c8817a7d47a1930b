"""The block keys an author search scans for a typo, remembered until the identities change.

A name typed with a misspelt (or unknown) surname makes :mod:`.author_search` read every block key with the
query's initial (``LIKE '% k'``), or every block key at all for a one-word query (``LIKE '% %'``), and fuzzy-match
the surnames.  On the site that is every one-word search: the People box asks for each of them, and the scan
(9,300 keys on the demo store, 5 ms; a million identities would take a good part of a second) was the largest
SQL cost of a realistic request mix.  The answer only changes when the identities do, so it is kept per database
and pattern, with the rows exactly as SQL returned them (same order, so the fuzzy matcher's ties fall the same),
and checked against a *fingerprint* read with index probes on every call: the newest ``modified_at`` and the
largest id of ``identities``, their count, and the ``stage_state`` watermarks (any disambiguation run moves
one).  A list over ``MAX_KEYS`` is not kept (memory per worker), so a huge store only loses the saving.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

MAX_KEYS = 200_000  # per list kept; larger ones are read from SQL on every call
MAX_LISTS = 256  # patterns kept (one per initial and one for all keys, per database)

_lock = threading.Lock()
_lists: OrderedDict[tuple[str, str], tuple[tuple[Any, ...], list[str], list[str]]] = OrderedDict()


def fingerprint(db: Any) -> tuple[Any, ...]:
    """What changes whenever a block key may have: cheap (index probes and one small table)."""
    # three scalar subqueries, not one SELECT of three aggregates: with COUNT(*) beside them SQLite gives up its
    # MIN/MAX optimisation and scans the table for MAX(modified_at) (1.1 ms on the demo store, not 0.015)
    row = db.query_tuples("SELECT (SELECT MAX(modified_at) FROM identities), (SELECT MAX(id) FROM identities), "
                          "(SELECT COUNT(*) FROM identities)")[0]
    stages = tuple(db.query_tuples("SELECT stage, watermark, updated_at FROM stage_state ORDER BY stage"))
    return (*row, stages)


def keys_like(db: Any, pattern: str) -> tuple[list[str], list[str]]:
    """(block keys matching the LIKE ``pattern``, in SQL's order, without empty ones; their surnames)."""
    where = (str(getattr(db, "url", id(db))), pattern)
    stamp = fingerprint(db)
    with _lock:
        kept = _lists.get(where)
        if kept is not None and kept[0] == stamp:
            _lists.move_to_end(where)
            return kept[1], kept[2]
    keys = [r[0] for r in db.query_tuples("SELECT DISTINCT block_key FROM identities WHERE block_key LIKE ?",
                                          (pattern,)) if r[0]]
    surnames = [k.rsplit(" ", 1)[0] for k in keys]
    if len(keys) <= MAX_KEYS:
        with _lock:
            _lists[where] = (stamp, keys, surnames)
            _lists.move_to_end(where)
            while len(_lists) > MAX_LISTS:
                _lists.popitem(last=False)
    return keys, surnames
