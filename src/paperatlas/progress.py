"""Progress bars with a rate, for every long job (ingest, build, embed, bench).

A thin layer over tqdm so that every stage shows the same thing, writes to stderr (stdout stays clean for
``--json``), and is silent under ``--quiet``.
"""

from __future__ import annotations

import sys
from typing import Any

from tqdm import tqdm


def progress(total: int | None = None, desc: str = "", unit: str = "rec", enabled: bool = True, **kw: Any) -> tqdm:
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        unit_scale=True,
        disable=not enabled,
        file=sys.stderr,
        dynamic_ncols=True,
        mininterval=0.5 if sys.stderr.isatty() else 10.0,
        smoothing=0.1,
        **kw,
    )
