"""Readers for the labelled disambiguation collections in ../shared/data/disambiguation.

Each returns a :class:`Labelled` set: mentions, their gold person, and the *name group* each belongs to (the unit
held out from training: an AMiner file, a Qian block, a UFMG name).  The sources are messy by nature (AMiner XML
is not well-formed; DBLP BibTeX uses TeX escapes), so they are read leniently with regular expressions.
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from ..normalize import name_key, split_homonym
from .mentions import Mention
from .names import compatible, parts_of


@dataclass
class Labelled:
    name: str
    mentions: list[Mention] = field(default_factory=list)
    gold: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)
    # "file:line: what is wrong" for every record skipped as malformed; scores are over the records kept
    problems: list[str] = field(default_factory=list)

    def add(self, mention: Mention, gold: str, group: str) -> None:
        self.mentions.append(mention)
        self.gold.append(gold)
        self.groups.append(group)

    def subset(self, keep_groups: set[str]) -> Labelled:
        out = Labelled(self.name, problems=self.problems)  # same name: training treats collections differently
        for m, g, grp in zip(self.mentions, self.gold, self.groups, strict=True):
            if grp in keep_groups:
                out.add(m, g, grp)
        return out

    @property
    def group_names(self) -> list[str]:
        return sorted(set(self.groups))


_PUB_OPEN = re.compile(r"<publication>")
_FIELD = re.compile(r"<(\w+)>(.*?)</\1>", re.S)


def _text(raw: str | None) -> str:
    if not raw or raw.strip() == "null":
        return ""
    return html.unescape(raw).strip()


def _pick_author(target: str, authors: list[str]) -> int:
    """Which slot of an author list is the person a file is about (exact name first, then a compatible one)."""
    key = name_key(target)
    for i, a in enumerate(authors):
        if name_key(a) == key:
            return i
    tp = parts_of(target)
    for i, a in enumerate(authors):
        ap = parts_of(a)
        if ap.surname == tp.surname and compatible(ap, tp) and ap.initial == tp.initial:
            return i
    for i, a in enumerate(authors):
        if parts_of(a).surname == tp.surname:
            return i
    return -1


def _segments(text: str, opener: re.Pattern[str]) -> list[tuple[int, int, int]]:
    """(line, start, stop) of each record ``opener`` begins: from the end of its opening to the next opening (or
    the end of the text), the span its closing must lie in; lines counted in one pass."""
    starts = [m.end() for m in opener.finditer(text)]
    out, line, previous = [], 1, 0
    for k, start in enumerate(starts):
        line += text.count("\n", previous, start)
        previous = start
        out.append((line, start, starts[k + 1] if k + 1 < len(starts) else len(text)))
    return out


def _publications(raw: str) -> list[tuple[int, str | None]]:
    """Each ``<publication>`` body with the line it starts on; None for one cut short before the next opens (a
    truncated file, a lost closing tag), so that it is reported rather than read into its neighbour."""
    bodies: list[tuple[int, str | None]] = []
    for line, start, stop in _segments(raw, _PUB_OPEN):
        end = raw.find("</publication>", start, stop)
        bodies.append((line, raw[start:end] if end >= 0 else None))
    return bodies


def read_aminer(folder: Path) -> Labelled:
    """One XML file per ambiguous name; ``<label>`` is the person within the file.  A publication without a label
    has no gold person (it would otherwise count as one more person, or as everyone's): reported and skipped."""
    out = Labelled("aminer-110")
    for path in sorted(Path(folder).glob("**/*.xml")):
        raw = path.read_text(encoding="utf-8", errors="replace")
        full = re.search(r"<FullName>(.*?)</FullName>", raw)
        target = _text(full.group(1)) if full else path.stem
        group = path.stem
        for n, (line, pub) in enumerate(_publications(raw)):
            if pub is None:
                out.problems.append(f"{path}:{line}: <publication> is never closed; skipped")
                continue
            fields = {k: _text(v) for k, v in _FIELD.findall(pub)}
            if not fields.get("label"):
                out.problems.append(f"{path}:{line}: publication without a <label>; skipped")
                continue
            authors = [a.strip() for a in fields.get("authors", "").split(",") if a.strip()]
            slot = _pick_author(target, authors)
            name = authors[slot] if slot >= 0 else target
            coauthors = [a for i, a in enumerate(authors) if i != slot]
            year = fields.get("year", "")
            mention = Mention(
                key=f"{group}/{n}", paper=f"{group}/{fields.get('id', n)}/{n}", name=name,
                coauthors=coauthors, title=fields.get("title", ""), venue=fields.get("jconf", ""),
                affiliations=[fields["organization"]] if fields.get("organization") else [],
                year=int(year) if year.isdigit() and int(year) > 0 else None, n_authors=max(len(authors), 1),
            )
            out.add(mention, f"{group}#{fields['label']}", group)
    return out


_BIB_START = re.compile(r"^@\w+\{", re.M)
_BIB_ENTRY = re.compile(r"([^,\n]+),(.*?)\n\}", re.S)
_BIB_FIELD = re.compile(r"(\w+)\s*=\s*\{((?:[^{}]|\{[^{}]*\})*)\}", re.S)
_TEX = [(r"\{\\&\}", "&"), (r"\\['`^\"~]\{?(\w)\}?", r"\1"), (r"[{}]", "")]


def _untex(text: str) -> str:
    for pattern, repl in _TEX:
        text = re.sub(pattern, repl, text)
    return re.sub(r"\s+", " ", text).strip()


def _bib_entries(path: Path, problems: list[str]) -> list[tuple[str, str]]:
    """(key, body) of each ``@type{key, ...}`` entry; one that does not close before the next begins (a cut
    export) is reported and left out, not glued to its neighbour."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    entries = []
    for line, start, stop in _segments(raw, _BIB_START):
        match = _BIB_ENTRY.match(raw, start, stop)
        if not match:
            problems.append(f"{path}:{line}: BibTeX entry without a key or a closing brace; skipped")
            continue
        entries.append((match.group(1), match.group(2)))
    return entries


def read_dblp_homonyms(folder: Path) -> Labelled:
    """DBLP BibTeX per homonym (``Zhang_0003_Jun.bib``): the number in the file name is the gold person and is
    *hidden* from the mentions (names are bare "Jun Zhang").  Entries the person neither wrote nor edited (the
    cross-referenced proceedings volumes DBLP appends to an export) are skipped."""
    out = Labelled("dblp-jun-zhang-homonyms")
    for path in sorted(Path(folder).glob("*.bib")):
        match = re.match(r"(.+?)_(\d{4})_(.+)$", path.stem)
        if not match:
            continue
        surname, number, forename = match.groups()
        target = f"{forename.replace('_', ' ')} {surname.replace('_', ' ')}"
        target_parts = parts_of(target)
        for key, body in _bib_entries(path, out.problems):
            fields = {k.lower(): _untex(v) for k, v in _BIB_FIELD.findall(body)}
            authors = [split_homonym(a.strip())[0] for a in fields.get("author", fields.get("editor", "")).split(
                " and ") if a.strip()]
            slot = _pick_author(target, authors)
            if slot < 0 or not compatible(parts_of(authors[slot]), target_parts):
                # DBLP's export appends the proceedings volume a paper cross-references (``@proceedings``, its
                # editors as authors): unless the person edited it, it is no authorship of theirs.
                continue
            name = authors[slot]
            year = fields.get("year", "")
            mention = Mention(
                key=f"{number}/{key}", paper=key.strip(), name=name,
                coauthors=[a for i, a in enumerate(authors) if i != slot], title=fields.get("title", ""),
                venue=fields.get("journal") or fields.get("booktitle", "").split(",")[0],
                year=int(year) if year.isdigit() else None, n_authors=max(len(authors), 1),
            )
            out.add(mention, number, target)
    return out


def read_s2and(folder: Path, name: str = "s2and-qian") -> Labelled:
    """S2AND signatures + clusters (no papers file: names, affiliations and positions only)."""
    folder = Path(folder)
    signatures = json.loads((folder / "signatures.json").read_text(encoding="utf-8"))
    clusters = json.loads((folder / "clusters.json").read_text(encoding="utf-8"))
    gold = {sid: cid for cid, c in clusters.items() for sid in c["signature_ids"]}
    out = Labelled(name)
    for sid, sig in signatures.items():
        info = sig["author_info"]
        forenames = " ".join(p for p in (info.get("first"), info.get("middle")) if p)
        mention = Mention(
            key=sid, paper=sig["paper_id"], name=f"{forenames} {info.get('last') or ''}".strip(),
            forenames=forenames, surname=info.get("last") or "", affiliations=info.get("affiliations") or [],
        )
        out.add(mention, gold.get(sid, f"alone-{sid}"), info.get("block") or "")
    return out


def read_ufmg(folder: Path) -> Labelled:
    """UFMG folds: ``id;cluster;name;coauthors;title;venue;year`` (stemmed text); train+test files of a name
    are one collection here (we hold out whole names, not folds)."""
    out = Labelled("ufmg-folds")
    seen: set[str] = set()
    for path in sorted(Path(folder).glob("**/*_f0.txt")):
        collection = path.parent.name
        person = path.stem.rsplit("_", 2)[0]
        group = f"{collection}/{person}"
        for number, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            cols = line.split(";")
            if len(cols) < 6:
                if line.strip():
                    out.problems.append(f"{path}:{number}: {len(cols)} of the 7 ;-separated columns; skipped")
                continue
            if f"{group}/{cols[0]}" in seen:  # a name's train and test files repeat records
                continue
            seen.add(f"{group}/{cols[0]}")
            coauthors = [c.strip() for c in cols[3].split(",") if c.strip()]
            year = cols[6].strip() if len(cols) > 6 else ""
            mention = Mention(
                key=f"{group}/{cols[0]}", paper=f"{group}/{cols[0]}", name=cols[2], coauthors=coauthors,
                title=cols[4], venue=cols[5], year=int(year) if year.isdigit() and int(year) > 0 else None,
                n_authors=len(coauthors) + 1,
            )
            out.add(mention, f"{group}#{cols[1]}", group)
    return out


def read_all(root: Path) -> dict[str, Labelled]:
    """Every collection found under ``root`` (the shared disambiguation folder)."""
    root = Path(root)
    found: dict[str, Labelled] = {}
    if (root / "aminer-110").is_dir():
        found["aminer-110"] = read_aminer(root / "aminer-110")
    if (root / "dblp-jun-zhang-homonyms").is_dir():
        found["dblp-jun-zhang-homonyms"] = read_dblp_homonyms(root / "dblp-jun-zhang-homonyms")
    if (root / "s2and" / "qian").is_dir():
        found["s2and-qian"] = read_s2and(root / "s2and" / "qian")
    if (root / "ufmg-folds").is_dir():
        found["ufmg-folds"] = read_ufmg(root / "ufmg-folds")
    return found


def read_folder(folder: Path) -> Labelled:
    """``--data DIR``: a folder laid out like aminer-110 (XML files per name), or like one of the others."""
    folder = Path(folder)
    if list(folder.glob("**/*.xml")):
        data = read_aminer(folder)
    elif list(folder.glob("*.bib")):
        data = read_dblp_homonyms(folder)
    elif (folder / "signatures.json").is_file():
        data = read_s2and(folder)
    elif list(folder.glob("**/*_f0.txt")):
        data = read_ufmg(folder)
    else:
        raise ValueError(f"no labelled data found in {folder} (expected AMiner-style XML files)")
    data.name = folder.name
    return data
