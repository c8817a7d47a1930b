"""Per-reader recommendations ("For you"): a blended model over embeddings, citations, authors and popularity.

``model.py`` holds the model (signals and their fitted weights), ``feed.py`` the store-facing API the accounts and
web code call: ``recommend_for(store, ReaderProfile(...), limit)``.  See docs/recommendations.md.
"""

from __future__ import annotations

from .feed import ReaderProfile, Recommendation, recommend_for

__all__ = ["ReaderProfile", "Recommendation", "recommend_for"]
