"""Small field conversions every reader needs: whitespace, dates, names, identifiers written as URLs."""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime

from ..model import Authorship
from ..normalize import parse_name, split_homonym

_SPACES = re.compile(r"\s+")


def clean(text: object) -> str | None:
    """Whitespace collapsed (sources hard-wrap titles and abstracts); None for missing or blank values."""
    if text is None or not isinstance(text, str):
        return None
    return " ".join(text.split()) or None  # split() collapses every Unicode space, faster than a regex


def iso_date(value: object) -> str | None:
    """``YYYY-MM-DD`` from ISO timestamps, bare years, or RFC 2822 dates (``Mon, 2 Apr 2007 19:18:42 GMT``)."""
    if value is None:
        return None
    if isinstance(value, int):
        return f"{value:04d}-01-01" if 1000 <= value <= 9999 else None
    text = str(value).strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}([T ].*)?", text):
        return text[:10]
    if re.fullmatch(r"\d{4}", text):
        return f"{text}-01-01"
    if re.fullmatch(r"\d{4}-\d{2}", text):
        return f"{text}-01"
    try:
        return parsedate_to_datetime(text).date().isoformat()
    except (TypeError, ValueError, IndexError):
        pass
    try:
        return datetime.fromisoformat(text).date().isoformat()
    except ValueError:
        return None


def as_int(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    return None


def authorship(position: int, name: str, *, forenames: str | None = None, surname: str | None = None,
               suffix: str | None = None, affiliations: list[str] | None = None, orcid: str | None = None,
               source_author_id: str | None = None) -> Authorship:
    """An authorship with the name as written and its parts parsed (unless the source gave them)."""
    bare, homonym = split_homonym(name)
    if surname is None and forenames is None:
        forenames, surname, parsed_suffix = parse_name(bare)
        suffix = suffix or parsed_suffix
    return Authorship(
        position=position,
        name=name,
        forenames=forenames or None,
        surname=surname or None,
        suffix=suffix or None,
        affiliations=[a for a in (affiliations or []) if a],
        orcid=short_orcid(orcid),
        dblp_homonym=homonym,
        source_author_id=source_author_id,
    )


_ORCID = re.compile(r"(\d{4}-\d{4}-\d{4}-\d{3}[\dX])", re.IGNORECASE)


def short_orcid(value: object) -> str | None:
    """``0000-0002-1825-0097`` from a bare ORCID or an orcid.org URL."""
    if not value or not isinstance(value, str):
        return None
    match = _ORCID.search(value)
    return match.group(1).upper() if match else None


def tail_id(url: object) -> str | None:
    """The last path segment of an id URL: ``https://openalex.org/W2741809807`` -> ``W2741809807``."""
    if not url or not isinstance(url, str):
        return None
    return url.rstrip("/").rsplit("/", 1)[-1] or None


_PARAGRAPH = re.compile(r"\n[ \t]+")


def arxiv_abstract(text: object) -> str | None:
    """arXiv abstracts are hard-wrapped; a line indented by spaces starts a new paragraph (as the OAI reader)."""
    if not text or not isinstance(text, str):
        return None
    paragraphs = [_SPACES.sub(" ", p).strip() for p in _PARAGRAPH.split("\n" + text.strip("\n"))]
    return "\n".join(p for p in paragraphs if p) or None
