"""Atom 1.0 and RSS 2.0 feeds: the same entries, two syntaxes.

Feed readers are strict where browsers are lenient, and feedparser (the tests' parser) is lenient too, so this
module owns the rules a validator checks rather than leaving them to templates: every id absolute and unique,
dates in RFC 3339 (Atom) and RFC 822 (RSS) from whatever precision a source gave (a bare year is January 1st,
never ``2013T00:00:00Z``), and no character XML 1.0 forbids (control characters do occur in source titles).
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from email.utils import format_datetime
from typing import Any

from .format import parse_date

# XML 1.0 allows tab, newline, carriage return and everything from U+0020 except surrogates, U+FFFE and U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
EPOCH = date(1970, 1, 1)


def xml_text(text: object) -> str:
    """Text with the characters XML 1.0 cannot carry removed (escaping is the template's autoescape)."""
    return _NOT_XML.sub("", str(text)) if text is not None else ""


def paper_day(card: dict[str, Any], *fields: str) -> date | None:
    """The first of ``fields`` that holds a real date; a bare year counts as its January 1st."""
    for name in fields:
        value = card.get(name)
        day = parse_date(value) if value else None
        if day is not None:
            return day
        if value and str(value)[:4].isdigit() and len(str(value)) == 4:
            return date(int(value), 1, 1)
    year = card.get("year")
    return date(int(year), 1, 1) if year else None


def rfc3339(day: date) -> str:
    return f"{day.isoformat()}T00:00:00Z"


def rfc822(day: date) -> str:
    return format_datetime(datetime(day.year, day.month, day.day, tzinfo=UTC), usegmt=True)


def entries(base_url: str, papers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One entry per distinct paper (a paper listed twice would give two entries with one id)."""
    out, seen = [], set()
    for card in papers:
        if card["pid"] in seen:
            continue
        seen.add(card["pid"])
        published = paper_day(card, "submitted", "published", "date") or EPOCH
        updated = max(paper_day(card, "updated", "submitted", "published", "date") or published, published)
        url = f"{base_url}paper/{card['pid']}"
        out.append({
            "id": url, "url": url, "title": xml_text(card.get("title") or "(untitled)"),
            "summary": xml_text(card.get("abstract") or ""),
            "authors": [xml_text(a["name"]) for a in card.get("authors", ())],
            "category": card.get("primary_category"),
            "updated": rfc3339(updated), "published": rfc3339(published), "pub_date": rfc822(published),
            "updated_day": updated,
        })
    return out


def feed_context(request: Any, title: str, alternate: str, papers: list[dict[str, Any]],
                 description: str) -> dict[str, Any]:
    """What feed.atom and feed.rss render: ``alternate`` is the page the feed mirrors (a site path)."""
    base = str(request.base_url)
    items = entries(base, papers)
    newest = max((e["updated_day"] for e in items), default=EPOCH)
    return {
        "feed_title": xml_text(title), "feed_description": xml_text(description),
        "feed_self": str(request.url), "feed_id": str(request.url),
        "feed_alternate": base + alternate.lstrip("/"),
        "feed_updated": rfc3339(newest), "feed_pub_date": rfc822(newest), "items": items,
    }


__all__ = ["feed_context", "rfc822", "rfc3339", "xml_text"]
