"""Reading JSON the way scholarly sources publish it: JSON lines (snapshots) or one document (API responses).

A file whose first non-blank line is a complete JSON value is read as JSON lines, one value per line, in
constant memory, each bad line reported with its number.  Otherwise it is one (pretty-printed) document, read
whole but never beyond ``MAX_RECORD_BYTES``: an API response is small, and a bigger one is refused, not loaded.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

import orjson

from .base import MAX_RECORD_BYTES, ErrorSink, iter_lines


def _decode_error(exc: Exception) -> str:
    return f"invalid JSON: {str(exc).splitlines()[0][:200]}"


def iter_json_values(stream: BinaryIO, file: str, errors: ErrorSink,
                     max_bytes: int = MAX_RECORD_BYTES) -> Iterator[tuple[int, Any]]:
    """(line number, parsed value) for each JSON line, or (1, document) for a single JSON document."""
    lines = iter_lines(stream, file, errors, max_bytes)
    first = next(lines, None)
    if first is None:
        return
    number, line = first
    stripped = line.strip()
    looks_like_line = stripped[:1] in (b"{", b"[") and stripped[-1:] in (b"}", b"]")
    if looks_like_line:
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            errors.report(file, number, _decode_error(exc))
        for number, line in lines:
            try:
                value = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                errors.report(file, number, _decode_error(exc))
                continue
            yield number, value
        return
    rest = stream.read(max_bytes - len(line) + 1)
    if len(line) + len(rest) > max_bytes:
        errors.report(file, number, f"JSON document longer than {max_bytes:,} bytes: refused")
        while stream.read(1024 * 1024):
            pass
        return
    try:
        yield number, orjson.loads(line + rest)
    except orjson.JSONDecodeError as exc:
        errors.report(file, number, _decode_error(exc))


def iter_json_objects(stream: BinaryIO, file: str, errors: ErrorSink,
                      build: Callable[[dict[str, Any], int], Any], what: str) -> Iterator[Any]:
    """``build(object, line)`` for each JSON object of the file, skipping (and reporting) the rest.

    A value that is not an object, or one ``build`` rejects with a data error (a missing key, a wrong type, a bad
    value), is reported as ``FILE:LINE: malformed <what> record`` and skipped; ``build`` may return None to skip
    a record silently (a deleted entry, say).
    """
    for line, value in iter_json_values(stream, file, errors):
        if not isinstance(value, dict):
            errors.report(file, line, f"expected a JSON object, got {type(value).__name__}")
            continue
        try:
            record = build(value, line)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
            errors.report(file, line, f"malformed {what} record: {type(exc).__name__}: {exc}")
            continue
        if record is not None:
            yield record


def json_head(head: bytes) -> bytes:
    """The head without a UTF-8 BOM or leading blanks, for sniffing."""
    return head.lstrip(b"\xef\xbb\xbf").lstrip()
