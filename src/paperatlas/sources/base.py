"""What a reader is, and the helpers every reader shares (bounded line reading, error reporting).

A reader turns one file of one format into canonical records (:mod:`paperatlas.model`): it knows its format and
nothing of the store or the web.  It never raises on a bad record: it reports ``FILE:LINE: reason`` to the
:class:`ErrorSink` and goes on (the sink raises instead under ``--strict``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO, Protocol

from ..model import Record

# A JSON line or an XML record larger than this is refused, never read whole into memory.
MAX_RECORD_BYTES = 64 * 1024 * 1024


class ReadError(Exception):
    """A whole file cannot be read (unknown format, truncated compression...): reported as one line."""


class StrictStop(Exception):
    """Raised by the sink under ``--strict`` at the first malformed record."""


@dataclass
class ErrorSink:
    """Collects malformed-record reports as ``FILE:LINE: reason``."""

    strict: bool = False
    echo: bool = True
    messages: list[str] = field(default_factory=list)
    max_kept: int = 1000
    count: int = 0  # records not stored
    problems: int = 0  # faults that cost no record (a broken prologue, junk between records)
    notices: int = 0  # records stored after a repair (control characters removed)

    def report(self, file: str, line: int | str, reason: str) -> None:
        """One record not stored, and why."""
        self.count += 1
        self._emit(f"{file}:{line}: {reason}")

    def problem(self, file: str, line: int | str, reason: str) -> None:
        """A fault in the file that cost no record: reported the same way, counted apart, so that records read +
        records reported still equals the records in the file."""
        self.problems += 1
        self._emit(f"{file}:{line}: {reason}")

    def notice(self, file: str, line: int | str, reason: str) -> None:
        """A record stored after a repair: said once per record, never a reason to stop (not even ``--strict``)."""
        self.notices += 1
        message = f"{file}:{line}: {reason}"
        if len(self.messages) < self.max_kept:
            self.messages.append(message)
        if self.echo:
            import sys

            print(message, file=sys.stderr)

    def _emit(self, message: str) -> None:
        if len(self.messages) < self.max_kept:
            self.messages.append(message)
        if self.echo:
            import sys

            print(message, file=sys.stderr)
        if self.strict:
            raise StrictStop(message)


class Reader(Protocol):
    """One file format."""

    name: str  # the --format value, e.g. "arxiv-oai"
    description: str

    def sniff(self, head: bytes, filename: str) -> bool:
        """True when ``head`` (the first bytes of the decompressed content) looks like this format."""

    def read(self, stream: BinaryIO, file: str, errors: ErrorSink) -> Iterator[Record]:
        """Yield the records of ``stream`` (already decompressed), in file order, in constant memory."""


def iter_lines(stream: BinaryIO, file: str, errors: ErrorSink,
               max_bytes: int = MAX_RECORD_BYTES) -> Iterator[tuple[int, bytes]]:
    """(line number, line) for each non-empty line; a line longer than ``max_bytes`` is reported and skipped
    chunk by chunk, so it is never held in memory."""
    number = 0
    while True:
        line = stream.readline(max_bytes + 1)
        if not line:
            return
        number += 1
        if len(line) > max_bytes and not line.endswith(b"\n"):
            errors.report(file, number, f"line longer than {max_bytes:,} bytes: refused")
            while True:  # drain the rest of the oversized line in bounded chunks
                chunk = stream.readline(1024 * 1024)
                if not chunk or chunk.endswith(b"\n"):
                    break
            continue
        if line.strip():
            yield number, line
