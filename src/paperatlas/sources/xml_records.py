"""Streaming XML records with lxml's pull parser: each finished record is handed over, then cleared, so a
file of any size is read in constant memory; a broken record is reported and costs that record only.

Three guarantees every XML reader gets from :func:`iter_elements`:

- **No DTD, no external entities, no network.**  A file's ``<!DOCTYPE>`` (and its internal subset, where XXE and
  entity bombs live) is removed before parsing (:class:`SafeXmlStream`); the only entities are XML's five and, for
  a reader that passes them, a fixed table of character entities (dblp's).
- **Resynchronisation.**  libxml2 cannot go on after a well-formedness error, so on one the reader finds the next
  record start tag after the break in the raw bytes and starts a new parser there, inside a copy of the records'
  ancestor elements (namespaces included), with line numbers kept those of the file.
- **Accounting.**  Record start tags are counted in the raw bytes as they are read; when a break is met, every
  record that started before the resynchronisation point and was not handed over is reported at its own line
  (``FILE:LINE: broken XML record: ...``), so records read + records reported = records in the file.  A break that
  costs no record (in the prologue, between records) is reported as a problem of the file, not of a record.
"""

from __future__ import annotations

import re
import zlib
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from lxml import etree

from .base import ErrorSink, ReadError

CHUNK = 1 << 16
_HEAD_LIMIT = 1 << 20  # the prologue (XML declaration, DOCTYPE) must end within this many bytes
_PARTIAL_REF = re.compile(rb"&[A-Za-z0-9]{0,32}$")
_ENTITY_REF = re.compile(rb"&([A-Za-z][A-Za-z0-9]{0,31});")
_XML_DECL = re.compile(rb"^\s*(<\?xml[^>]*\?>)")
_ROOT_TAG = re.compile(rb"<([A-Za-z_][\w.\-:]*)(\s[^>]*)?>")
_STARTS_KEPT = 100_000  # positions of the most recent record starts, for the lines of lost records


def _doctype_end(head: bytes, start: int) -> int | None:
    """The offset just past the ``<!DOCTYPE ...>`` that begins at ``start`` (an internal subset ``[...]`` and
    quoted strings included), or None when it does not end in ``head``."""
    depth = 0
    quote = 0
    for position in range(start + 2, len(head)):
        byte = head[position]
        if quote:
            if byte == quote:
                quote = 0
        elif byte in (0x22, 0x27):  # " '
            quote = byte
        elif byte == 0x5B:  # [
            depth += 1
        elif byte == 0x5D:  # ]
            depth = max(0, depth - 1)
        elif byte == 0x3E and depth == 0:  # >
            return position + 1
    return None


class SafeXmlStream:
    """A read-only stream with the file's ``<!DOCTYPE>`` removed (its line breaks kept) and, when ``entities`` is
    given, those named entities replaced by what the table maps them to (numeric character references).

    Why remove rather than refuse the DOCTYPE: real dblp files carry one, and no reader needs a DTD; with it gone
    the parser may resolve entities (so that an undefined one is a well-formedness error that breaks its record,
    rather than a silent stop) without any entity being able to reach a file or the network."""

    def __init__(self, stream: BinaryIO, entities: dict[bytes, bytes] | None = None) -> None:
        self._stream = stream
        self._entities = entities
        head = b""
        while len(head) < _HEAD_LIMIT and not re.search(rb"<[A-Za-z_]", head):
            chunk = stream.read(CHUNK)  # decompressing streams may return short reads
            if not chunk:
                break
            head += chunk
        start = head.find(b"<!DOCTYPE")
        if start >= 0 and not re.search(rb"<[A-Za-z_]", head[:start]):
            end = _doctype_end(head, start)
            if end is None:
                raise ReadError(f"the <!DOCTYPE> declaration does not end within the first {len(head):,} bytes")
            head = head[:start] + b"\n" * head.count(b"\n", start, end) + head[end:]
        self.head = head
        self._carry = head
        self._done = False

    def read(self, size: int = -1) -> bytes:
        """Up to about ``size`` bytes; b"" only at the end of the stream."""
        data, self._carry = self._carry, b""
        while True:
            while not self._done and (size is None or size < 0 or len(data) < size):
                chunk = self._stream.read(size if size and size > 0 else -1)
                if not chunk:
                    self._done = True
                data += chunk
            if self._entities is None or self._done:
                break
            partial = _PARTIAL_REF.search(data, max(0, len(data) - 40))
            if partial is None:
                break
            # an entity cut by the chunk boundary: finish it with the next read
            data, self._carry = data[: partial.start()], data[partial.start():]
            if data:
                break
            data, self._carry = self._carry, b""
            size = (size or 0) + 64  # only a partial entity so far: read on
        if self._entities is None:
            return data
        if b"&" in data:
            table = self._entities
            data = _ENTITY_REF.sub(lambda m: table.get(m.group(1), m.group(0)), data)
        return data


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _wrapper(element: etree._Element) -> bytes:
    """Start tags of ``element``'s ancestors (with their namespace declarations), outermost first."""
    chain = list(element.iterancestors())[::-1]
    if not chain:
        return b""
    outer = inner = None
    for ancestor in chain:
        attrib = dict(ancestor.attrib)
        if inner is None:
            outer = inner = etree.Element(ancestor.tag, attrib=attrib, nsmap=ancestor.nsmap)
        else:
            inner = etree.SubElement(inner, ancestor.tag, attrib=attrib, nsmap=ancestor.nsmap)
    assert inner is not None and outer is not None
    inner.text = "\u2063"
    text = etree.tostring(outer)  # ASCII with character references: valid in UTF-8 and Latin-1 documents
    return text[: text.index(b"&#8291;")].replace(b"\n", b" ")


class _Raw:
    """The bytes read so far, as far back as a resynchronisation can need them, with line numbers and the offsets
    of record start tags."""

    def __init__(self, source: SafeXmlStream, starts: re.Pattern[bytes]) -> None:
        self.source = source
        self.starts = starts
        self.window = b""
        self.offset = 0  # absolute offset of window[0]
        self.line = 1  # line number of window[0]
        self.start_offsets: deque[tuple[int, int]] = deque(maxlen=_STARTS_KEPT)  # (offset, line)
        self.start_count = 0
        self._counted = 0  # absolute offset before which every record start has been counted
        self._counted_line = 1  # its line number
        self.eof = False

    def read(self) -> bytes:
        chunk = self.source.read(CHUNK)
        if not chunk:
            if not self.eof:
                self.eof = True
                self._scan(final=True)
            return b""
        # keep two chunks for a resynchronisation to search back into, and every byte not yet scanned for starts
        dropped = max(0, min(len(self.window) - 2 * CHUNK, self._counted - self.offset))
        keep = self.window[dropped:]
        if dropped:
            self.line += self.window.count(b"\n", 0, dropped)
            self.offset += dropped
        self.window = keep + chunk
        self._scan(final=False)
        return chunk

    def _scan(self, final: bool) -> None:
        """Count the record starts up to 64 bytes before the window's end (all of them at the end of the file):
        a start tag may straddle a chunk boundary, so the last bytes wait for the next chunk."""
        self.scan_to(self.offset + (len(self.window) if final else len(self.window) - 64))

    def scan_to(self, absolute: int) -> None:
        """Count the record starts that begin before ``absolute`` (itself a record start, or the end of what was
        read, so that no start tag is cut)."""
        begin = max(0, self._counted - self.offset)
        limit = min(len(self.window), absolute - self.offset)
        if limit <= begin:
            return
        line, cursor = self._counted_line, begin
        for match in self.starts.finditer(self.window, begin):
            position = match.start()
            if position >= limit:
                break
            line += self.window.count(b"\n", cursor, position)
            cursor = position
            self.start_offsets.append((position + self.offset, line))
            self.start_count += 1
        self._counted_line = line + self.window.count(b"\n", cursor, limit)
        self._counted = limit + self.offset

    def line_of(self, absolute: int) -> int:
        position = max(0, absolute - self.offset)
        return self.line + self.window.count(b"\n", 0, position)

    def offset_of_line(self, line: int, column: int) -> int:
        """Absolute offset of (line, column), clamped to the window."""
        if line <= self.line:
            return self.offset
        position = -1
        for _ in range(line - self.line):
            position = self.window.find(b"\n", position + 1)
            if position < 0:
                return self.offset + len(self.window)
        return self.offset + position + 1 + max(0, column - 1)

    def starts_before(self, absolute: int, accounted: int) -> tuple[int, list[int]]:
        """How many record starts before ``absolute`` are beyond the first ``accounted`` ones, and the lines of
        those (the most recent ``_STARTS_KEPT`` known).  Walks from the newest start back, so a file with many
        broken records costs each break only the records it lost."""
        self.scan_to(absolute)
        after = 0
        for offset, _ in reversed(self.start_offsets):
            if offset < absolute:
                break
            after += 1
        missing = self.start_count - after - accounted
        if missing <= 0:
            return 0, []
        kept = len(self.start_offsets) - after
        lines = [self.start_offsets[i][1] for i in range(max(0, kept - missing), kept)]
        return missing, lines


def iter_elements(stream: BinaryIO, file: str, errors: ErrorSink, tags: tuple[str, ...] | str,
                  setup: Callable[[Any], None] | None = None, *, entities: dict[bytes, bytes] | None = None,
                  **parser_options: Any) -> Iterator[etree._Element]:
    """Yield each complete element named in ``tags`` (Clark notation); the caller must not keep it.

    A pull parser fed in chunks rather than ``iterparse``: when a chunk turns out to be broken, the elements that
    chunk completed before the break are still read out and yielded (lxml 6.2's ``iterparse`` drops them with the
    exception).  See the module docstring for what happens next.  A record that opens inside another record means
    the outer one lost its end tag: the outer one is reported, the inner one read."""
    tags = (tags,) if isinstance(tags, str) else tags
    names = sorted({_local(t) for t in tags}, key=len, reverse=True)
    starts = re.compile(rb"<(?:[A-Za-z_][\w.\-]*:)?(?:" + b"|".join(re.escape(n.encode()) for n in names)
                        + rb")[\s/>]")
    source = SafeXmlStream(stream, entities)
    declaration = _XML_DECL.match(source.head)
    prolog = declaration.group(1) if declaration else b""
    root_match = _ROOT_TAG.search(source.head)
    wrapper = root_match.group(0).replace(b"\n", b" ") if root_match else b"<records>"
    options = {"huge_tree": True, **parser_options, "resolve_entities": True, "no_network": True,
               "load_dtd": False}
    raw = _Raw(source, starts)
    yielded = lost = 0
    line_base = 0
    resync_at = -1
    prefix_length = 0
    wrapped = False

    def new_parser() -> Any:
        parser = etree.XMLPullParser(events=("start", "end"), tag=tags, **options)
        if setup is not None:
            setup(parser)
        return parser

    def report_lost(before: int, line: int, reason: str, *, fault: bool = True) -> None:
        nonlocal lost
        missing, lines = raw.starts_before(before, yielded + lost)
        if missing <= 0:
            if fault:
                errors.problem(file, line, reason)
            return
        for start_line in [line] * (missing - len(lines)) + lines:
            lost += 1
            errors.report(file, start_line, f"{reason}: record not read")

    parser = new_parser()
    open_records: list[etree._Element] = []
    broken: set[int] = set()
    pending = b""
    while True:
        failure: tuple[int, int, str] | None = None
        compressed: str | None = None
        closing = False
        try:
            chunk = pending or raw.read()
            pending = b""
            if chunk:
                parser.feed(chunk)
            else:
                closing = True
                parser.close()
        except etree.XMLSyntaxError as exc:
            line, column = exc.position if exc.position else (exc.lineno or 1, 0)
            if line == 1:  # the first line of a resynchronised parser starts with the prefix it was fed
                column = max(0, column - prefix_length)
            failure = (line + line_base, column, f"broken XML: {getattr(exc, 'msg', None) or exc}")
        except (EOFError, zlib.error, OSError) as exc:
            compressed = f"truncated or corrupt compressed data: {exc}"
            closing = True
        if not closing or failure is None:
            # A document cut short fails only at close(), which first closes every open element: those are
            # fragments, not records, and are not read out.
            for event, element in parser.read_events():
                if event == "start":
                    if line_base:
                        element.sourceline = (element.sourceline or 1) + line_base
                    if not wrapped:
                        wrapper, wrapped = _wrapper(element) or wrapper, True
                    for outer in open_records:
                        if id(outer) not in broken:
                            broken.add(id(outer))
                            lost += 1
                            errors.report(file, outer.sourceline or 1,
                                          f"broken XML record: <{_local(outer.tag)}> not closed before the next "
                                          "record starts: record not read")
                    open_records.append(element)
                    continue
                if open_records and open_records[-1] is element:
                    open_records.pop()
                if id(element) in broken:
                    broken.discard(id(element))
                else:
                    yielded += 1
                    yield element
                element.clear(keep_tail=False)
                parent = element.getparent()
                if parent is not None:
                    while element.getprevious() is not None:
                        del parent[0]
        if compressed is not None:
            report_lost(raw.offset + len(raw.window), raw.line_of(raw.offset + len(raw.window)), compressed)
            return
        if failure is None:
            if closing:
                # well-formed to the end, yet a start tag that never became a record: a root element in another
                # namespace, say, or a record nested where none is expected
                end = raw.offset + len(raw.window) + 1
                report_lost(end, raw.line_of(end), "a record start tag that was not read as a record (wrong "
                            "namespace or nesting?)", fault=False)
                return
            continue
        line, column, reason = failure
        if closing:  # the file ended inside a record (or in the trailer)
            report_lost(raw.offset + len(raw.window) + 1, line, reason)
            return
        # Resynchronise at the next record start after the break.
        after = max(raw.offset_of_line(line, column), resync_at + 1, raw.offset)
        while True:
            match = starts.search(raw.window, max(0, after - raw.offset))
            if match is not None or raw.eof:
                break
            if not raw.read():
                break
        if match is None:
            report_lost(raw.offset + len(raw.window) + 1, line, reason)
            return
        resync_at = raw.offset + match.start()
        report_lost(resync_at, line, reason)
        open_records.clear()
        broken.clear()
        line_base = raw.line_of(resync_at) - 1
        parser = new_parser()
        prefix = (prolog + wrapper).replace(b"\n", b" ")
        prefix_length = len(prefix)
        pending = prefix + raw.window[match.start():]


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
