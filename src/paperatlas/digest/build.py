"""What goes into one subscriber's digest for one period.

A digest has sections, most personal first: "For you" (the reader's recommendations, for a subscriber whose address
has an account with a library or votes: ``readers/foryou.py``), new papers by followed authors, matching saved
searches, in followed categories, then the period's trending papers. A paper appears once per digest and never in
two digests of the same subscriber (``digest_sent_papers``). Lists shared by many subscribers (trending, a
category's new papers, a popular query) are computed once per run by :class:`DigestBuilder`, which is what makes
10,000 digests cheap.

Periods: a daily digest for date D is keyed ``D`` and covers papers submitted in the ``DAILY_LOOKBACK`` days up to
D (more than one day because arXiv announces in batches and weekends are empty; the sent-papers rule keeps the
overlap from repeating anything); a weekly digest is keyed by D's ISO week (``2025-W51``) and covers 7 days.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

import orjson

from ..metrics.trending import trending_papers
from ..readers import foryou
from ..readers.accounts import find_account
from ..search import search_papers
from ..store import Store
from .subscriptions import Subscriber

DAILY_LOOKBACK = 3
WEEKLY_LOOKBACK = 7
SECTION_LIMIT = 10
TRENDING_LIMIT = 8
TOTAL_LIMIT = 30
FOR_YOU_LIMIT = 5


def period_key(frequency: str, on: date) -> str:
    if frequency == "weekly":
        year, week, _ = on.isocalendar()
        return f"{year}-W{week:02d}"
    return on.isoformat()


def window(frequency: str, on: date) -> tuple[str, str]:
    """[start, end) as ISO date strings; compares correctly with ISO dates and ISO timestamps alike."""
    days = WEEKLY_LOOKBACK if frequency == "weekly" else DAILY_LOOKBACK
    return (on - timedelta(days=days - 1)).isoformat(), (on + timedelta(days=1)).isoformat()


@dataclass(frozen=True)
class PaperItem:
    id: int
    pid: str
    title: str
    authors: str
    abstract: str
    category: str | None
    submitted: str | None
    reason: str | None = None  # why it was recommended (the "For you" section only)


@dataclass
class Section:
    kind: str  # "for_you", "author", "query", "category", "trending"
    title: str
    papers: list[PaperItem] = field(default_factory=list)


@dataclass
class Digest:
    subscriber: Subscriber
    period: str
    on: date
    sections: list[Section]

    @property
    def paper_ids(self) -> list[int]:
        return [p.id for s in self.sections for p in s.papers]

    @property
    def count(self) -> int:
        return sum(len(s.papers) for s in self.sections)

    def snapshot(self) -> str:
        """The content as JSON for the ledger, so a re-send after a crash is the same digest."""
        return orjson.dumps([{"kind": s.kind, "title": s.title, "ids": [p.id for p in s.papers]}
                             for s in self.sections]).decode()


def _shorten(text: str | None, limit: int) -> str:
    text = " ".join((text or "").split())
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


class DigestBuilder:
    """Builds digests for one date; caches every list that does not depend on the subscriber."""

    def __init__(self, store: Store, on: date):
        self.store = store
        self.on = on
        self._lists: dict[tuple, list[int]] = {}
        self._papers: dict[int, PaperItem] = {}

    # -- shared lists --------------------------------------------------------------------------------------------
    def _cached(self, key: tuple, compute) -> list[int]:
        if key not in self._lists:
            self._lists[key] = compute()
        return self._lists[key]

    def _in_window(self, ids: list[int], frequency: str) -> list[int]:
        if not ids:
            return []
        start, end = window(frequency, self.on)
        keep: set[int] = set()
        for chunk in range(0, len(ids), 500):
            part = ids[chunk: chunk + 500]
            marks = ",".join("?" * len(part))
            keep.update(r[0] for r in self.store.db.query_tuples(
                f"SELECT id FROM papers WHERE id IN ({marks}) AND submitted >= ? AND submitted < ?",
                (*part, start, end)))
        return [i for i in ids if i in keep]

    def trending(self, frequency: str) -> list[int]:
        def compute() -> list[int]:
            ids = list(trending_papers(self.store, self.on, None, 100, 0))
            return self._in_window(ids, frequency) or ids[:50]
        return self._cached(("trending", frequency), compute)

    def by_author(self, aid: str, frequency: str) -> list[int]:
        start, end = window(frequency, self.on)
        return self._cached(("author", aid, frequency), lambda: [r[0] for r in self.store.db.query_tuples(
            "SELECT DISTINCT p.id, p.submitted FROM identities i JOIN authorships a ON a.identity_id = i.id "
            "JOIN papers p ON p.id = a.paper_id WHERE i.aid = ? AND p.submitted >= ? AND p.submitted < ? "
            "ORDER BY p.submitted DESC, p.id DESC LIMIT 50", (aid, start, end))])

    def in_category(self, category: str, frequency: str) -> list[int]:
        start, end = window(frequency, self.on)
        return self._cached(("category", category, frequency), lambda: [r[0] for r in self.store.db.query_tuples(
            "SELECT id FROM papers WHERE submitted >= ? AND submitted < ? AND (primary_category = ? "
            "OR categories LIKE ?) ORDER BY submitted DESC, id DESC LIMIT 50",
            (start, end, category, f'%"{category}"%'))])

    def matching(self, query: str, frequency: str) -> list[int]:
        def compute() -> list[int]:
            start = window(frequency, self.on)[0]
            # BM25 only: a digest run must not load the embedding model for a few saved searches.  No index: the
            # search stage raises IndexNotBuilt, which stops `digest send` with what to run.
            found = search_papers(self.store, query, limit=200, offset=0, filters={"year_from": int(start[:4])},
                                  sort="date", mode="bm25", facets=False, require_all=True)
            ids = [int(r["paper_id"]) for r in found.get("results", [])]
            return self._in_window(ids, frequency)[:50]
        return self._cached(("query", query, frequency), compute)

    def for_you(self, subscriber: Subscriber) -> tuple[list[int], dict[int, str]]:
        """The recommendations of the account with the subscriber's address, if it has a library or votes, and
        the first reason of each.  A store without a vector index (``LookupError`` from the retraining) leaves
        the section out: the other sections do not depend on it, and the web page says what to run."""
        account = find_account(self.store.db, subscriber.email)
        if account is None or not foryou.has_signals(self.store.db, account.id):
            return [], {}
        try:
            items = foryou.recommendations(self.store, account.id, limit=foryou.KEEP)
        except LookupError:
            return [], {}
        return [i.paper_id for i in items], {i.paper_id: i.reasons[0] for i in items if i.reasons}

    # -- paper details ---------------------------------------------------------------------------------------------
    def papers(self, ids: list[int]) -> dict[int, PaperItem]:
        missing = [i for i in dict.fromkeys(ids) if i not in self._papers]
        for chunk in range(0, len(missing), 500):
            part = missing[chunk: chunk + 500]
            marks = ",".join("?" * len(part))
            names: dict[int, list[str]] = {}
            for pid, name in self.store.db.query_tuples(
                f"SELECT paper_id, name FROM authorships WHERE paper_id IN ({marks}) ORDER BY paper_id, position",
                part,
            ):
                names.setdefault(pid, []).append(name)
            for row in self.store.db.query(
                f"SELECT id, pid, title, abstract, primary_category, submitted FROM papers WHERE id IN ({marks})",
                part,
            ):
                authors = names.get(row["id"], [])
                line = ", ".join(authors[:3]) + (" et al." if len(authors) > 3 else "")
                self._papers[row["id"]] = PaperItem(
                    id=row["id"], pid=row["pid"], title=" ".join((row["title"] or "(untitled)").split()),
                    authors=line, abstract=_shorten(row["abstract"], 300), category=row["primary_category"],
                    submitted=(row["submitted"] or "")[:10] or None)
        return {i: self._papers[i] for i in ids if i in self._papers}

    # -- one subscriber ----------------------------------------------------------------------------------------------
    def already_sent(self, subscriber_id: int) -> set[int]:
        return {r[0] for r in self.store.db.query_tuples(
            "SELECT paper_id FROM digest_sent_papers WHERE subscriber_id = ?", (subscriber_id,))}

    def build(self, subscriber: Subscriber, period: str | None = None) -> Digest:
        freq = subscriber.frequency
        follows = subscriber.follows
        wanted: list[tuple[str, str, list[int]]] = []
        recommended, reasons = self.for_you(subscriber)
        if recommended:
            wanted.append(("for_you", "For you", recommended))
        names = self._author_names(follows.authors)
        for aid in follows.authors:
            wanted.append(("author", f"New from {names.get(aid, aid)}", self.by_author(aid, freq)))
        for query in follows.queries:
            wanted.append(("query", f"Matching “{query}”", self.matching(query, freq)))
        for category in follows.categories:
            wanted.append(("category", f"New in {category}", self.in_category(category, freq)))
        wanted.append(("trending", "Trending this week" if freq == "weekly" else "Trending today",
                       self.trending(freq)))
        seen = self.already_sent(subscriber.id)
        sections: list[Section] = []
        total = 0
        for kind, title, ids in wanted:
            limit = {"trending": TRENDING_LIMIT, "for_you": FOR_YOU_LIMIT}.get(kind, SECTION_LIMIT)
            chosen: list[int] = []
            for pid in ids:
                if total + len(chosen) >= TOTAL_LIMIT or len(chosen) >= limit:
                    break
                if pid not in seen:
                    chosen.append(pid)
                    seen.add(pid)
            if chosen:
                details = self.papers(chosen)
                sections.append(Section(kind, title, [replace(details[i], reason=reasons.get(i))
                                                      if kind == "for_you" else details[i]
                                                      for i in chosen if i in details]))
                total += len(chosen)
        return Digest(subscriber, period or period_key(freq, self.on), self.on, sections)

    def from_snapshot(self, subscriber: Subscriber, period: str, snapshot: str) -> Digest:
        sections = []
        for part in orjson.loads(snapshot):
            details = self.papers(part["ids"])
            sections.append(Section(part["kind"], part["title"], [details[i] for i in part["ids"] if i in details]))
        return Digest(subscriber, period, self.on, sections)

    def _author_names(self, aids: list[str]) -> dict[str, str]:
        if not aids:
            return {}
        key = ("names", *aids)
        if key not in self._lists:
            marks = ",".join("?" * len(aids))
            self._lists[key] = dict(self.store.db.query_tuples(
                f"SELECT aid, name FROM identities WHERE aid IN ({marks})", aids))  # type: ignore[assignment]
        return self._lists[key]  # type: ignore[return-value]
