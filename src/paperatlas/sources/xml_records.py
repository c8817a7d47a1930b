"""Streaming XML records with lxml's pull parser: each finished record is handed over, then cleared, so a
file of any size is read in constant memory; a file that stops being well-formed is reported, not raised."""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from lxml import etree

from .base import ErrorSink

CHUNK = 1 << 16


def iter_elements(stream: BinaryIO, file: str, errors: ErrorSink, tags: tuple[str, ...] | str,
                  setup: Callable[[Any], None] | None = None, **parser_options: Any) -> Iterator[etree._Element]:
    """Yield each complete element named in ``tags`` (Clark notation); the caller must not keep it.

    A pull parser fed in chunks rather than ``iterparse``: when a chunk turns out to be broken, the elements that
    chunk completed before the break are still read out and yielded (lxml 6.2's ``iterparse`` drops them with the
    exception), so a broken record costs only itself and what follows it."""
    options = {"resolve_entities": False, "no_network": True, "huge_tree": True, **parser_options}
    parser = etree.XMLPullParser(events=("end",), tag=tags, **options)
    if setup is not None:
        setup(parser)
    last_line = 1
    done = False
    while not done:
        failure: tuple[int | None, str] | None = None
        drain = True
        try:
            chunk = stream.read(CHUNK)
            if chunk:
                parser.feed(chunk)
            else:
                done = True
                parser.close()
        except etree.XMLSyntaxError as exc:
            failure = (exc.lineno, f"broken XML: {getattr(exc, 'msg', None) or exc}")
            # A document cut short fails only at close(), which first closes every open element: those are
            # fragments, not records.  A break met while feeding stops before the broken element ends.
            drain = not done
        except (EOFError, zlib.error, OSError) as exc:
            failure = (None, f"truncated or corrupt compressed data: {exc}")
        if drain:
            for _, element in parser.read_events():
                last_line = element.sourceline or last_line
                yield element
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
        if failure is not None:
            errors.report(file, failure[0] or last_line, failure[1])
            return


def converted(elements: Iterator[etree._Element], convert: Callable[[etree._Element], Any], file: str,
              errors: ErrorSink, what: str) -> Iterator[Any]:
    """``convert`` each element; one it refuses (ValueError, TypeError) is reported at its line as "malformed
    ``what``" (``{tag}`` in it names the element's tag) and skipped, one it maps to None (a deleted record, say) is
    skipped quietly."""
    for element in elements:
        try:
            record = convert(element)
        except (ValueError, TypeError) as exc:
            errors.report(file, element.sourceline or 0, f"malformed {what.format(tag=element.tag)}: {exc}")
            continue
        if record is not None:
            yield record


def text_of(element: etree._Element | None) -> str:
    """All text inside an element, markup such as ``<i>`` or ``<sub>`` dropped."""
    if element is None:
        return ""
    if len(element) == 0:  # the common case: no <i>, <sub> inside
        return element.text or ""
    return "".join(element.itertext())
