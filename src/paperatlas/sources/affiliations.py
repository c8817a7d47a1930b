"""Affiliation slugs: one short, stable key per organisation whatever way a source spells it.

Sources write ``Google DeepMind``, ``DeepMind, London, UK`` or ``Department of Computer Science, Carnegie Mellon
University, Pittsburgh``; filters, facets and author pages want ``deepmind`` and ``cmu``.  Well-known research
organisations get their usual short name; any other affiliation gets the slug of its organisation part (the
comma-separated segment that names a university, institute, lab or company).
"""

from __future__ import annotations

import re
from functools import lru_cache

from ..normalize import ascii_fold

# (pattern on the ASCII-folded, lower-cased text, slug).  First match wins, so specific names come first.
_KNOWN: list[tuple[re.Pattern[str], str]] = [
    (re.compile(p), slug)
    for p, slug in [
        (r"\bdeep\s?mind\b", "deepmind"),
        (r"\ballen institute for (ai|artificial intelligence)\b|\bai2\b|\ballenai\b", "allen-ai"),
        (r"\bcarnegie[\s-]mellon\b|\bcmu\b", "cmu"),
        (r"\bmassachusetts institute of technology\b|^mit$|\bmit csail\b|\bcsail\b", "mit"),
        (r"\bstanford\b", "stanford"),
        (r"\buniversity of california,? berkeley\b|\buc berkeley\b", "berkeley"),
        (r"\bgoogle\b", "google"),
        (r"\bmicrosoft\b", "microsoft"),
        (r"\bmeta ai\b|\bfacebook\b|\bfair\b|\bmeta platforms\b", "meta"),
        (r"\bopenai\b", "openai"),
        (r"\banthropic\b", "anthropic"),
        (r"\bnvidia\b", "nvidia"),
        (r"\bibm\b", "ibm"),
        (r"\bamazon\b|\baws\b", "amazon"),
        (r"\bapple\b", "apple"),
        (r"\bhugging\s?face\b", "huggingface"),
        (r"\btsinghua\b", "tsinghua"),
        (r"\bpeking university\b", "pku"),
        (r"\beth zu?e?rich\b|\bswiss federal institute of technology,? zurich\b", "ethz"),
        (r"\bepfl\b|\becole polytechnique federale de lausanne\b", "epfl"),
        (r"\buniversity of oxford\b|\boxford university\b", "oxford"),
        (r"\buniversity of cambridge\b|\bcambridge university\b", "cambridge"),
        (r"\buniversity of toronto\b", "toronto"),
        (r"\bmila\b|\bmontreal institute for learning algorithms\b", "mila"),
        (r"\bmax planck institute\b", "mpi"),
    ]
]
# Which comma-separated part names the organisation: a university before the institute or lab inside it.
_TIERS = [
    re.compile(r"\b(universi|polytechnic|politecnico|ecole|hochschule|college)"),
    re.compile(r"\b(institut|laborator|lab\b|labs\b|academy|foundation|centre\b|center\b|hospital|inc\b|corp|"
               r"company|gmbh|ltd|research|school|agency|council|bank|ministry|survey|society|commission|"
               r"organi[sz]ation|conservancy|fund)"),
]
_DEPARTMENT = re.compile(r"^(dept\.?|department|faculty|division|group|chair|school of|college of)\b")
_ROLE = re.compile(r"\b(advisor|adviser|officer|president|director|professor|student|fellow|manager|lecturer|"
                   r"researcher|scientist|contacted|e-?mail)\b")
_MAX_SLUG = 60


def _slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text).strip("-")


@lru_cache(maxsize=65_536)
def affiliation_slug(affiliation: str | None) -> str | None:
    """``deepmind``, ``allen-ai``, ``cmu``... or the slug of the organisation part; None for an empty string."""
    if not affiliation or not affiliation.strip():
        return None
    text = ascii_fold(affiliation).strip()
    for pattern, slug in _KNOWN:
        if pattern.search(text):
            return slug
    segments = [s.strip() for s in re.split(r"[,;]", text) if s.strip()]
    candidates = [s for s in segments if not _ROLE.search(s)] or segments
    organisation = next(
        (s for tier in _TIERS for s in candidates if tier.search(s) and not _DEPARTMENT.match(s)),
        next((s for s in candidates if not _DEPARTMENT.match(s)), candidates[0] if candidates else text),
    )
    slug = _slugify(re.sub(r"^the\s+", "", organisation))
    if len(slug) > _MAX_SLUG:  # a whole address without commas: keep the head of it
        slug = slug[:_MAX_SLUG].rsplit("-", 1)[0]
    return slug or None


def affiliation_slugs(affiliations: list[str]) -> list[str]:
    """Distinct slugs of a list of affiliations, in order."""
    out: list[str] = []
    for affiliation in affiliations:
        slug = affiliation_slug(affiliation)
        if slug and slug not in out:
            out.append(slug)
    return out
