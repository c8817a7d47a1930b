"""A collection as BibTeX, RIS and CSL-JSON: the three formats Zotero, Mendeley and every LaTeX tool import.

Built from the store's own fields (title, authors in order, year, venue and its kind, DOI, arXiv id, abstract),
one entry per paper.  Values are escaped for each format: BibTeX braces balanced and special characters escaped
(titles carry ``{``, ``%`` and ``&``), RIS one tag per line with line breaks folded (a newline would start a
new tag), CSL-JSON through a JSON encoder.  Tests read each file back with an independent parser.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..store import Database


@dataclass
class ExportPaper:
    pid: str
    title: str
    authors: list[str]
    year: int | None
    venue: str | None
    venue_kind: str | None
    doi: str | None
    arxiv: str | None
    abstract: str | None
    categories: list[str] = field(default_factory=list)


def load_papers(db: Database, paper_ids: list[int]) -> list[ExportPaper]:
    """The papers in the given order (unknown ids are skipped)."""
    out = []
    for paper_id in paper_ids:
        rows = db.query("SELECT id, pid, title, year, venue_name, venue_kind, abstract, primary_category "
                        "FROM papers WHERE id = ?", (paper_id,))
        if not rows:
            continue
        row = rows[0]
        ids = dict(db.query_tuples("SELECT scheme, value FROM paper_ids WHERE paper_id = ?", (paper_id,)))
        authors = [name for (name,) in db.query_tuples(
            "SELECT name FROM authorships WHERE paper_id = ? ORDER BY position", (paper_id,))]
        out.append(ExportPaper(pid=row["pid"], title=row["title"] or "", authors=authors, year=row["year"],
                               venue=row["venue_name"], venue_kind=row["venue_kind"], doi=ids.get("doi"),
                               arxiv=ids.get("arxiv"), abstract=row["abstract"],
                               categories=[row["primary_category"]] if row["primary_category"] else []))
    return out


def _one_line(text: str | None) -> str:
    return " ".join((text or "").split())


def _bib_escape(text: str) -> str:
    """Escape what BibTeX reads as syntax; drop unbalanced braces (a title with ``}`` would end the field)."""
    text = _one_line(text)
    text = re.sub(r"([&%#_$])", r"\\\1", text.replace("\\", ""))
    depth, kept = 0, []
    for ch in text:
        if ch == "{":
            depth += 1
        elif ch == "}":
            if depth == 0:
                continue
            depth -= 1
        kept.append(ch)
    return "".join(kept) + "}" * depth


def _key(paper: ExportPaper, used: set[str]) -> str:
    surname = paper.authors[0].split()[-1] if paper.authors and paper.authors[0].split() else "anon"
    ascii_surname = unicodedata.normalize("NFKD", surname).encode("ascii", "ignore").decode()
    base = re.sub(r"[^A-Za-z]", "", ascii_surname).lower() or "anon"
    word = next((w.lower() for w in re.findall(r"[A-Za-z]{4,}", paper.title)), "")
    key = f"{base}{paper.year or ''}{word}"
    candidate, n = key, 1
    while candidate in used:
        n += 1
        candidate = f"{key}{chr(ord('a') + (n - 2) % 26)}{(n - 2) // 26 or ''}"
    used.add(candidate)
    return candidate


def _bib_type(paper: ExportPaper) -> str:
    return {"journal": "article", "conference": "inproceedings", "workshop": "inproceedings"}.get(
        paper.venue_kind or "", "misc")


def to_bibtex(papers: list[ExportPaper]) -> str:
    used: set[str] = set()
    entries = []
    for paper in papers:
        kind = _bib_type(paper)
        fields: list[tuple[str, str]] = [("title", "{" + _bib_escape(paper.title) + "}"),
                                         ("author", " and ".join(_bib_escape(a) for a in paper.authors))]
        if paper.year:
            fields.append(("year", str(paper.year)))
        if paper.venue and kind != "misc":
            fields.append(("journal" if kind == "article" else "booktitle", _bib_escape(paper.venue)))
        if paper.doi:
            fields.append(("doi", _bib_escape(paper.doi)))
        if paper.arxiv:
            fields += [("eprint", _bib_escape(paper.arxiv)), ("archiveprefix", "arXiv")]
            fields.append(("url", f"https://arxiv.org/abs/{_bib_escape(paper.arxiv)}"))
        body = ",\n".join(f"  {name} = {{{value}}}" for name, value in fields if value)
        entries.append(f"@{kind}{{{_key(paper, used)},\n{body}\n}}\n")
    return "\n".join(entries)


def to_ris(papers: list[ExportPaper]) -> str:
    """RIS: ``TY`` opens and ``ER`` closes each record; ``AU`` once per author, in order."""
    lines: list[str] = []
    for paper in papers:
        kind = {"journal": "JOUR", "conference": "CPAPER", "workshop": "CPAPER"}.get(paper.venue_kind or "", "GEN")
        lines.append(f"TY  - {kind}")
        lines.append(f"TI  - {_one_line(paper.title)}")
        lines += [f"AU  - {_one_line(a)}" for a in paper.authors]
        if paper.year:
            lines.append(f"PY  - {paper.year}")
        if paper.venue:
            lines.append(f"{'JO' if kind == 'JOUR' else 'T2'}  - {_one_line(paper.venue)}")
        if paper.doi:
            lines.append(f"DO  - {_one_line(paper.doi)}")
        if paper.arxiv:
            lines.append(f"UR  - https://arxiv.org/abs/{_one_line(paper.arxiv)}")
        if paper.abstract:
            lines.append(f"AB  - {_one_line(paper.abstract)}")
        lines.append(f"ID  - {paper.pid}")
        lines.append("ER  - ")
        lines.append("")
    return "\r\n".join(lines)


def _csl_name(name: str) -> dict[str, str]:
    parts = _one_line(name).split()
    if len(parts) < 2:
        return {"literal": _one_line(name)}
    return {"family": parts[-1], "given": " ".join(parts[:-1])}


def to_csl_json(papers: list[ExportPaper]) -> bytes:
    items: list[dict[str, Any]] = []
    for paper in papers:
        kind = {"journal": "article-journal", "conference": "paper-conference", "workshop": "paper-conference"}.get(
            paper.venue_kind or "", "article")
        item: dict[str, Any] = {"id": paper.pid, "type": kind, "title": _one_line(paper.title),
                                "author": [_csl_name(a) for a in paper.authors]}
        if paper.year:
            item["issued"] = {"date-parts": [[paper.year]]}
        if paper.venue:
            item["container-title"] = _one_line(paper.venue)
        if paper.doi:
            item["DOI"] = paper.doi
        if paper.arxiv:
            item["URL"] = f"https://arxiv.org/abs/{paper.arxiv}"
            item["number"] = f"arXiv:{paper.arxiv}"
        if paper.abstract:
            item["abstract"] = _one_line(paper.abstract)
        items.append(item)
    return orjson.dumps(items, option=orjson.OPT_INDENT_2)


FORMATS = {
    "bibtex": ("application/x-bibtex; charset=utf-8", "bib"),
    "ris": ("application/x-research-info-systems; charset=utf-8", "ris"),
    "csl-json": ("application/vnd.citationstyles.csl+json", "json"),
}


def export(db: Database, paper_ids: list[int], fmt: str) -> bytes:
    papers = load_papers(db, paper_ids)
    if fmt == "bibtex":
        return to_bibtex(papers).encode("utf-8")
    if fmt == "ris":
        return to_ris(papers).encode("utf-8")
    if fmt == "csl-json":
        return to_csl_json(papers)
    raise ValueError(f"unknown export format {fmt!r}: use one of {', '.join(FORMATS)}")
