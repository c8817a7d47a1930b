"""Marking a reader's precomputed "For you" list out of date when they act (vote, save, follow, thumbs).

Kept apart from ``foryou.py`` so the vote, library and follow modules can mark a reader without importing the
recommendation model.  ``stale`` counts the actions since the last retraining instead of being a flag: a
retraining subtracts the count it started from, so an action that lands while it runs is not lost.
"""

from __future__ import annotations

from ..store import Database


def mark_stale(db: Database, account_id: int) -> None:
    """One more action since the reader's list was made (the next read, or a background retraining, redoes it)."""
    db.execute("INSERT INTO reader_recommendation_state (account_id, stale) VALUES (?, 1) "
               "ON CONFLICT (account_id) DO UPDATE SET stale = reader_recommendation_state.stale + 1",
               (account_id,))
