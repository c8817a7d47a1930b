"""Every reader PaperAtlas has, in the order format detection tries them."""

from __future__ import annotations

import importlib

from .base import Reader

READER_MODULES = [
    "paperatlas.sources.arxiv_oai",
    "paperatlas.sources.arxiv_atom",
    "paperatlas.sources.arxiv_snapshot",
    "paperatlas.sources.dblp",
    "paperatlas.sources.openalex",
    "paperatlas.sources.semantic_scholar",
    "paperatlas.sources.s2orc",
    "paperatlas.sources.acl_anthology",
    "paperatlas.sources.code_links",
]


def readers() -> list[Reader]:
    """Each module exposes ``READERS: list[Reader]`` (a module may hold several related formats)."""
    found: list[Reader] = []
    for name in READER_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:
                continue
            raise
        found.extend(module.READERS)
    return found


def reader_named(name: str) -> Reader | None:
    return next((r for r in readers() if r.name == name), None)
