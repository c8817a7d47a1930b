"""arXiv's category names, shipped as data (``data/arxiv-taxonomy.tsv``): pages say "Computation and Language
(cs.CL)" rather than a bare code, with no network look-up.  A category the table does not know keeps its code."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).parent / "data" / "arxiv-taxonomy.tsv"


@lru_cache(maxsize=1)
def names() -> dict[str, str]:
    out: dict[str, str] = {}
    for line in TABLE.read_text(encoding="utf-8").splitlines():
        if line and not line.startswith("#"):
            code, _, name = line.partition("\t")
            out[code.strip()] = name.strip()
    return out


def category_name(code: str | None) -> str | None:
    """``cs.CL`` -> ``Computation and Language``; None when unknown."""
    return names().get(code or "")


def category_title(code: str | None) -> str:
    """``Computation and Language (cs.CL)``, or the code alone when the taxonomy does not list it."""
    if not code:
        return ""
    name = category_name(code)
    return f"{name} ({code})" if name else code


__all__ = ["category_name", "category_title", "names"]
