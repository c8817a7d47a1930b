"""What one paper looks like to the full-text index, read from the store in batches (never all at once)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from ..store import Database

_PAPER_COLUMNS = ("id, pid, title, abstract, year, submitted, published, categories, primary_category, venue_name, "
                  "journal_ref, code_links")


def _date_number(*dates: str | None) -> int:
    for value in dates:
        if value and len(value) >= 4 and value[:4].isdigit():
            digits = (value[:10].replace("-", "") + "0101")[:8]
            return int(digits) if digits.isdigit() else int(value[:4]) * 10000 + 101
    return 0


def venue_key(name: str | None) -> str:
    """The filter form of a venue name: lower-case, single spaces (``"ICLR  2017"`` -> ``"iclr 2017"``)."""
    return " ".join((name or "").lower().split())


def iter_index_rows(db: Database, where: str = "", params: tuple = (), batch: int = 2000) -> Iterator[dict[str, Any]]:
    """Papers with their identifiers and author names, ``batch`` at a time, as dicts ready for :func:`to_document`."""
    last = -1
    while True:
        rows = db.query(
            f"SELECT {_PAPER_COLUMNS} FROM papers WHERE id > ? {where} ORDER BY id LIMIT {int(batch)}", (last, *params)
        )
        if not rows:
            return
        ids = [r["id"] for r in rows]
        marks = ",".join("?" * len(ids))
        idents: dict[int, list[str]] = {}
        for scheme, value, pid in db.query_tuples(
            f"SELECT scheme, value, paper_id FROM paper_ids WHERE paper_id IN ({marks})", ids
        ):
            idents.setdefault(pid, []).append(f"{scheme}:{value}")
        names: dict[int, list[str]] = {}
        for pid, name in db.query_tuples(
            f"SELECT paper_id, name FROM authorships WHERE paper_id IN ({marks}) ORDER BY paper_id, position", ids
        ):
            names.setdefault(pid, []).append(name)
        for row in rows:
            row["ids"] = idents.get(row["id"], [])
            row["authors"] = names.get(row["id"], [])
            yield row
        last = ids[-1]


def to_document(row: dict[str, Any]) -> Any:
    """A tantivy Document for one paper row (see :func:`iter_index_rows`)."""
    import tantivy as t

    doc = t.Document()
    doc.add_integer("paper_id", int(row["id"]))
    doc.add_text("pid", row["pid"])
    doc.add_text("title", row.get("title") or "")
    doc.add_text("abstract", row.get("abstract") or "")
    for name in row.get("authors") or ():
        doc.add_text("authors", name)
    for venue in (row.get("venue_name"), row.get("journal_ref")):
        if venue:
            doc.add_text("venue", venue)
    for ref in row.get("ids") or ():
        doc.add_text("ids", ref)
        doc.add_text("ids", ref.partition(":")[2])
    categories = row.get("categories")
    if isinstance(categories, str):
        categories = orjson.loads(categories) if categories else []
    categories = list(categories or [])
    if row.get("primary_category") and row["primary_category"] not in categories:
        categories.insert(0, row["primary_category"])
    archives = {c.split(".", 1)[0] for c in categories if "." in c}
    for category in categories:
        doc.add_text("category", category)
    for archive in sorted(archives):
        doc.add_text("archive", archive)
    doc.add_text("venue_key", venue_key(row.get("venue_name")))
    date = _date_number(row.get("submitted"), row.get("published"), str(row["year"]) if row.get("year") else None)
    doc.add_integer("date", date)
    doc.add_integer("year", int(row["year"]) if row.get("year") else date // 10000)
    links = row.get("code_links")
    if isinstance(links, str):
        links = orjson.loads(links) if links else []
    doc.add_integer("has_code", 1 if links else 0)
    return doc
