"""Small display rules the pages share: category codes, dates, affiliation slugs, BibTeX.

They live apart from the templates so that the JSON API, the feeds and the tests use exactly the same rules.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache

from anyascii import anyascii

_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def category_code(category: str | None) -> str:
    """``cs.CL`` -> ``CL``, ``eess.IV`` -> ``IV``; a category without a subject class is upper-cased whole."""
    if not category:
        return ""
    return category.rsplit(".", 1)[-1].upper() if "." in category else category.upper()


def parse_date(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def short_date(text: str | None, today: date | None = None) -> str:
    """``Mar 7, 2023``; in the current year the year is dropped (``Jan 8``), as readers of a feed expect."""
    day = parse_date(text)
    if day is None:
        return text[:4] if text else ""
    today = today or date.today()
    label = f"{_MONTHS[day.month - 1]} {day.day}"
    return label if day.year == today.year else f"{label}, {day.year}"


def long_date(text: str | None) -> str:
    """``Dec 4, 2026`` always with its year: for sentences that compare two days of different years."""
    day = parse_date(text)
    if day is None:
        return text[:4] if text else ""
    return f"{_MONTHS[day.month - 1]} {day.day}, {day.year}"


def count(n: int | None, word: str) -> str:
    """``1 paper``, ``2,949 citations``."""
    n = n or 0
    return f"{n:,} {word}" if n == 1 else f"{n:,} {word}s"


@lru_cache(maxsize=65_536)
def slugify(text: str, limit: int = 40) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", anyascii(text).lower()).strip("-")
    return slug[:limit].rstrip("-")


def affiliation_slugs(affiliations: list[list[str]], limit: int = 3) -> list[str]:
    """Distinct slugs of the affiliations of a paper's authors, in author order (``deepmind``, ``cmu``)."""
    seen: list[str] = []
    for names in affiliations:
        for name in names or ():
            # "Machine Learning Group, RWTH Aachen University" -> the institution, usually the last part
            slug = slugify(name.split(",")[-1].strip() or name)
            if slug and slug not in seen:
                seen.append(slug)
            if len(seen) >= limit:
                return seen
    return seen


def venue_line(name: str | None, year: int | None, kind: str | None) -> str:
    parts = [p for p in (name, str(year) if year else None) if p]
    if kind:
        parts.append("Preprint" if kind == "preprint" else f"{kind.capitalize()} Paper")
    return " ".join(parts)


def _bibtex_value(text: str) -> str:
    return text.replace("{", "\\{").replace("}", "\\}") if text.count("{") != text.count("}") else text


# Entry type by venue kind, and the field that names the venue in it (BibTeX's standard styles).  A preprint, a
# paper without a venue, or a kind BibTeX has no entry for is @misc, which has no venue field: the venue then goes
# to ``howpublished`` (a booktitle in @misc is ignored by every style, the fault the issue saw).
_ENTRY = {"journal": ("article", "journal"), "conference": ("inproceedings", "booktitle"),
          "workshop": ("inproceedings", "booktitle"), "book": ("incollection", "booktitle")}


def bibtex(paper: dict) -> str:
    """A BibTeX entry for a paper card (see :mod:`paperatlas.web.queries`)."""
    authors = paper.get("authors") or []
    first = authors[0]["name"] if authors else "anon"
    surname = slugify(first.split()[-1] if first.split() else "anon").replace("-", "")
    year = paper.get("year") or ""
    words = [w for w in re.findall(r"[A-Za-z]+", anyascii(paper.get("title") or "")) if len(w) > 3]
    key = f"{surname or 'anon'}{year}{words[0].lower() if words else ''}"
    entry, venue_field = _ENTRY.get(paper.get("venue_kind") or "", ("misc", "howpublished"))
    fields: list[tuple[str, str]] = [
        ("title", "{" + _bibtex_value(paper.get("title") or "") + "}"),
        ("author", " and ".join(_bibtex_value(a["name"]) for a in authors)),
        ("year", str(year)),
    ]
    venue = paper.get("venue_name")
    if venue and paper.get("venue_kind") != "preprint":
        fields.append((venue_field, _bibtex_value(venue)))
    ids = paper.get("ids") or {}
    if "doi" in ids:
        fields.append(("doi", ids["doi"]))
    if "arxiv" in ids:
        fields += [("eprint", ids["arxiv"]), ("archivePrefix", "arXiv")]
        if paper.get("primary_category"):
            fields.append(("primaryClass", paper["primary_category"]))
    if "acl" in ids:
        fields.append(("url", f"https://aclanthology.org/{ids['acl']}/"))
    elif "arxiv" in ids:
        fields.append(("url", f"https://arxiv.org/abs/{ids['arxiv']}"))
    body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
    return f"@{entry}{{{key},\n{body}\n}}\n"
