"""Every reader PaperAtlas has, in the order format detection tries them (plain imports: a broken reader module
fails when PaperAtlas starts, not as a format that is silently never detected)."""

from __future__ import annotations

from . import (
    acl_anthology,
    arxiv_atom,
    arxiv_oai,
    arxiv_snapshot,
    code_links,
    dblp,
    openalex,
    s2orc,
    semantic_scholar,
)
from .base import Reader

READER_MODULES = [arxiv_oai, arxiv_atom, arxiv_snapshot, dblp, openalex, semantic_scholar, s2orc, acl_anthology,
                  code_links]


def readers() -> list[Reader]:
    """Each module exposes ``READERS: list[Reader]`` (a module may hold several related formats)."""
    return [reader for module in READER_MODULES for reader in module.READERS]


def reader_named(name: str) -> Reader | None:
    return next((r for r in readers() if r.name == name), None)
