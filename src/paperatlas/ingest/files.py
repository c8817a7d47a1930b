"""Finding the files to ingest, opening them whatever their compression, and telling their format.

Everything here runs *before* anything is written: a missing path, a folder with nothing readable or a file of
unknown format stops the ingest with one clear line, and the store is untouched.
"""

from __future__ import annotations

import bz2
import gzip
import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from ..sources.base import Reader
from ..sources.registry import reader_named, readers

HEAD_BYTES = 64 * 1024


class IngestError(Exception):
    """The ingest cannot start (bad path, nothing readable, unknown format): one line for the user, exit 2."""


@dataclass(frozen=True)
class PlannedFile:
    path: Path
    reader: Reader
    size: int  # bytes on disk (compressed), for progress and reporting

    @property
    def format(self) -> str:
        return self.reader.name


def compression(path: Path) -> str | None:
    """"gzip", "bz2" or None, from the magic bytes (file names lie)."""
    with open(path, "rb") as handle:
        magic = handle.read(3)
    if magic[:2] == b"\x1f\x8b":
        return "gzip"
    if magic == b"BZh":
        return "bz2"
    return None


def open_binary(path: Path) -> BinaryIO:
    """The decompressed bytes of ``path``, streamed."""
    kind = compression(path)
    if kind == "gzip":
        return gzip.open(path, "rb")  # type: ignore[return-value]
    if kind == "bz2":
        return bz2.open(path, "rb")  # type: ignore[return-value]
    return open(path, "rb", buffering=1024 * 1024)


def read_head(path: Path, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` decompressed bytes; a truncated or corrupt file gives what could be read."""
    return read_head_checked(path, size)[0]


def read_head_checked(path: Path, size: int = HEAD_BYTES) -> tuple[bytes, str | None]:
    """The first ``size`` decompressed bytes and, when decompressing failed before that, why (a truncated bz2
    should say so, not look like an empty file)."""
    chunks: list[bytes] = []
    got = 0
    problem = None
    try:
        with open_binary(path) as stream:
            while got < size:
                chunk = stream.read(min(4096, size - got))
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
    except (EOFError, OSError, ValueError) as exc:
        kind = compression(path) or "the"
        problem = f"truncated or corrupt {kind} data ({exc or type(exc).__name__})"
    return b"".join(chunks), problem


def detect(head: bytes, filename: str) -> Reader | None:
    for reader in readers():
        try:
            if reader.sniff(head, filename):
                return reader
        except Exception:  # a reader's sniffing bug must not stop detection by the others
            continue
    return None


def _walk(folder: Path) -> list[Path]:
    found: list[Path] = []
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        found.extend(Path(root) / name for name in sorted(files) if not name.startswith("."))
    return found


def _why(notes: list[str]) -> str:
    """The notes that explain an empty plan, for its one-line error (at most three)."""
    return (" (" + "; ".join(notes[-3:]) + ")") if notes else ""


def plan(paths: list[str | Path], format: str | None = None) -> tuple[list[PlannedFile], list[str]]:
    """The files to read with their readers, and notes about files passed over (empty, unknown inside a folder).

    Raises :class:`IngestError` for a missing path, an unknown ``format`` name, an explicitly named file of unknown
    format, or when nothing at all is readable."""
    forced = None
    if format:
        forced = reader_named(format)
        if forced is None:
            known = ", ".join(sorted(r.name for r in readers()))
            raise IngestError(f"unknown format {format!r} (known: {known})")
    if not paths:
        raise IngestError("no path given")
    planned: list[PlannedFile] = []
    notes: list[str] = []
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            raise IngestError(f"{raw}: no such file or folder")
        if path.is_dir():
            candidates, explicit = _walk(path), False
            if not candidates:
                raise IngestError(f"{raw}: folder has no files to read")
        else:
            candidates, explicit = [path], True
        readable_here = 0
        for file in candidates:
            try:
                status = file.stat()
            except OSError as exc:
                raise IngestError(f"{file}: cannot read: {exc.strerror or exc}") from exc
            if not stat.S_ISREG(status.st_mode):
                # a named pipe would block the ingest forever on its first read; a device never ends
                if explicit:
                    raise IngestError(f"{file}: not a regular file (a named pipe, socket or device): refused")
                notes.append(f"{file}: not a regular file (a named pipe, socket or device), skipped")
                continue
            try:
                head, problem = read_head_checked(file, 4096 if forced else HEAD_BYTES)
            except OSError as exc:
                raise IngestError(f"{file}: cannot read: {exc.strerror or exc}") from exc
            size = status.st_size
            if not head.strip():
                if problem:
                    if explicit:
                        raise IngestError(f"{file}: {problem}: nothing could be read")
                    notes.append(f"{file}: {problem}: nothing could be read, skipped")
                else:
                    notes.append(f"{file}: empty, nothing to read")
                continue
            reader = forced or detect(head, file.name)
            if reader is None:
                if explicit:
                    known = ", ".join(sorted(r.name for r in readers()))
                    raise IngestError(f"{file}: unknown format (use --format; known: {known})")
                notes.append(f"{file}: format not recognized, skipped")
                continue
            planned.append(PlannedFile(file, reader, size))
            readable_here += 1
        if path.is_dir() and readable_here == 0:
            raise IngestError(f"{raw}: nothing readable in this folder" + _why(notes))
    if not planned:
        raise IngestError("nothing readable in " + ", ".join(str(p) for p in paths) + _why(notes))
    return planned, notes
