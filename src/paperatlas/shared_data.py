"""Where the real data samples are: benchmarks and training commands read them, the product never needs them.

One rule for every command, so ``PAPERATLAS_SHARED_DATA`` means the same everywhere: that variable if set, else a
``shared/data`` folder beside the working folder or the checkout, or beside the checkout's parent folder (the
layouts of a PaperAtlas workspace and of a CI checkout).
"""

from __future__ import annotations

from pathlib import Path

from .settings import current

ENV = "PAPERATLAS_SHARED_DATA"


def candidates() -> list[Path]:
    configured = current().shared_data
    if configured:
        return [configured]
    checkout = Path(__file__).resolve().parents[2]  # src/paperatlas/shared_data.py -> the checkout
    # beside the working folder or the checkout, or one level further up (a CI checkout in a folder of its own)
    bases = [Path.cwd(), Path.cwd().parent, checkout, checkout.parent, checkout.parent.parent]
    return [base / "shared" / "data" for base in dict.fromkeys(bases)]


def shared_data_dir(must_have: str | None = None) -> Path | None:
    """The first candidate folder that exists (and holds ``must_have``, e.g. ``"peer-review"``), or None."""
    for candidate in candidates():
        if candidate.is_dir() and (must_have is None or (candidate / must_have).exists()):
            return candidate
    return None


def shared_data_dir_or_default(must_have: str | None = None) -> Path:
    """Like :func:`shared_data_dir`, but a path to name in an error message when nothing is found."""
    return shared_data_dir(must_have) or candidates()[0]
