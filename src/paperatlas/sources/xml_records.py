"""Streaming XML records with lxml ``iterparse``: each finished record is handed over, then cleared, so a
file of any size is read in constant memory; a file that stops being well-formed is reported, not raised."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from lxml import etree

from .base import ErrorSink


def iter_elements(stream: BinaryIO, file: str, errors: ErrorSink, tags: tuple[str, ...] | str,
                  setup: Callable[[Any], None] | None = None, **parser_options: Any) -> Iterator[etree._Element]:
    """Yield each complete element named in ``tags`` (Clark notation); the caller must not keep it."""
    options = {"resolve_entities": False, "no_network": True, "huge_tree": True, **parser_options}
    context = etree.iterparse(stream, events=("end",), tag=tags, **options)
    if setup is not None:
        setup(context)
    last_line = 1
    try:
        for _, element in context:
            last_line = element.sourceline or last_line
            yield element
            element.clear(keep_tail=False)
            parent = element.getparent()
            if parent is not None:
                while element.getprevious() is not None:
                    del parent[0]
    except etree.XMLSyntaxError as exc:
        errors.report(file, exc.lineno or last_line, f"broken XML: {getattr(exc, 'msg', None) or exc}")
    except (EOFError, zlib.error, OSError) as exc:
        errors.report(file, last_line, f"truncated or corrupt compressed data: {exc}")


def text_of(element: etree._Element | None) -> str:
    """All text inside an element, markup such as ``<i>`` or ``<sub>`` dropped."""
    if element is None:
        return ""
    if len(element) == 0:  # the common case: no <i>, <sub> inside
        return element.text or ""
    return "".join(element.itertext())
