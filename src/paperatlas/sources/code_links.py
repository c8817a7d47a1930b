"""``paper_code_links.jsonl``: papers of ACL, NAACL, CVPR and ICML proceedings with the repository they link.

One JSON object a line (papercopilot/paperlists): ``id`` (an ACL Anthology id, or none), ``arxiv``, ``title``,
``author`` (names joined by ``;``), ``abstract``, ``conference_file`` (``acl/acl2021.json``: the venue and
year), ``status`` (Long, Short, Poster, Oral), ``github`` as scraped (sometimes without a scheme, sometimes an
organisation), ``project`` (a project page, not code) and ``gs_citation`` (Google Scholar's count).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any, BinaryIO

from ..model import ACL, ARXIV, Provenance, Record, Source, SourceRecord, Venue, VenueKind
from ..normalize import parse_arxiv_id
from .base import ErrorSink
from .codelinks import find_code_links, merge_links, normalize_code_link
from .fields import as_int, authorship, clean
from .json_values import iter_json_objects, json_head

_ACL_ID = re.compile(r"^(?:[A-Z]\d{2}-\d{4}|\d{4}\.[a-z0-9]+-[a-z0-9]+\.\d+)$")
_CONFERENCE_FILE = re.compile(r"(?:^|/)([a-z]+)(\d{4})\.json$", re.IGNORECASE)
# The row's ``status`` names its track.  Findings papers are published beside the conference, not in it, and the
# industry and demo tracks have proceedings of their own: each gets its own venue name, as the Anthology does.
_TRACK_NAMES = {"findings": "Findings of {}", "industry": "{} Industry Track",
                "system demonstrations": "{} System Demonstrations", "demo": "{} System Demonstrations"}


def venue_name(conference: str, status: object) -> str:
    """``NAACL`` + ``Findings`` -> ``Findings of NAACL``; main-conference statuses (Long, Oral ...) keep the name."""
    template = _TRACK_NAMES.get(str(status or "").strip().lower())
    return template.format(conference) if template else conference


class CodeLinksReader:
    name = Source.CODE_LINKS.value
    description = "paper_code_links.jsonl (papercopilot paperlists rows with a GitHub link)"

    def sniff(self, head: bytes, filename: str) -> bool:
        head = json_head(head)
        return head.startswith(b"{") and b'"github"' in head and (b'"conference_file"' in head or b'"site"' in head)

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        yield from iter_json_objects(stream, file, errors, lambda data, line: self._record(data, file, line),
                                     "code-links")

    def _record(self, data: dict[str, Any], file: str, line: int) -> SourceRecord:
        title = clean(data.get("title"))
        if not title:
            raise ValueError("no title")
        ids: dict[str, str] = {}
        acl_id = clean(data.get("id"))
        if acl_id and _ACL_ID.match(acl_id):
            ids[ACL] = acl_id
        if data.get("arxiv"):
            parsed = parse_arxiv_id(str(data["arxiv"]))
            if parsed:
                ids[ARXIV] = parsed[0]
        github = data.get("github")
        if github is not None and not isinstance(github, str):
            raise TypeError(f"github must be a string, not {type(github).__name__}")
        direct = [link for raw in re.split(r"[\s,;]+", github or "") if raw and (link := normalize_code_link(raw))]
        abstract = clean(data.get("abstract"))
        authors_field = data.get("author") or ""
        if not isinstance(authors_field, str):
            raise TypeError("author must be a string")
        names = [n for n in (clean(p) for p in authors_field.split(";")) if n]
        venue = None
        match = _CONFERENCE_FILE.search(str(data.get("conference_file") or ""))
        if match:
            venue = Venue(venue_name(match.group(1).upper(), data.get("status")), int(match.group(2)),
                          VenueKind.CONFERENCE.value)
        extra = {k: data[k] for k in ("status", "track", "site", "pdf", "project") if data.get(k)}
        return SourceRecord(
            source=self.name,
            provenance=Provenance(self.name, file, f"line {line}"),
            ids=ids,
            title=title,
            abstract=abstract,
            venue=venue,
            code_links=merge_links(direct, find_code_links(abstract)),
            authors=[authorship(position, name) for position, name in enumerate(names)],
            external_citation_count=as_int(data.get("gs_citation")),
            extra=extra,
        )


READERS = [CodeLinksReader()]
