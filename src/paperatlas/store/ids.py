"""Public ids: short, URL-safe, and stable.

A paper's id is derived from the first identifier it was seen with, so rebuilding a store from the same input in
the same order gives the same ids; it never changes afterwards, even when the paper gains more identifiers.
"""

from __future__ import annotations

import base64
import hashlib


def _digest(text: str, length: int) -> str:
    raw = hashlib.blake2b(text.encode("utf-8"), digest_size=10).digest()
    return base64.b32encode(raw).decode("ascii").lower()[:length]


def make_pid(seed: str, attempt: int = 0) -> str:
    """Paper id such as ``p3kq7x2m9ab``; ``attempt`` > 0 resolves the (rare) collision."""
    return "p" + _digest(seed if attempt == 0 else f"{seed}#{attempt}", 10)


def make_aid(seed: str, attempt: int = 0) -> str:
    """Author identity id such as ``a7d2kq9x0mz``."""
    return "a" + _digest(seed if attempt == 0 else f"{seed}#{attempt}", 10)
