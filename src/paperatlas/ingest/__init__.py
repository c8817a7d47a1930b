"""The ingest pipeline: files of any supported format in, one merged record per paper in the store.

``ingest_paths`` is the contract the CLI, the harvester, benchmarks and other stages' tests use::

    summary = ingest_paths(store, ["../shared/data/arxiv/oai-pmh-cs-2016"])

Every path is checked and every file's format detected before anything is written (``files.plan``); then a
parser (a second process on a multi-core machine, see ``producer``) streams encoded batches to the writer
(``merge.writer.apply_in_transaction``).

Batches are committed in groups (:class:`CommitGroups`): up to ``COMMIT_RECORDS`` records or ``COMMIT_SECONDS``
seconds per transaction, and at once whenever the parser has nothing ready.  A commit writes every page the
transaction dirtied, and the random inserts of the name and title indexes dirty most of their leaf pages in any
batch, so fewer, larger commits write far less: measured on the 102,538-record OAI-PMH harvest, 8,000 records a
commit wrote 15.7 KB per record against 24.3 KB for one commit per 2,000-record batch.  Crash safety is unchanged
in kind: a ``kill -9`` leaves the store as it was after the last committed group, and a re-run redoes the rest.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..gcpause import collect_young, gc_paused
from ..progress import progress
from ..settings import current
from ..sources.base import StrictStop
from ..store import Store
from .files import IngestError, PlannedFile, plan
from .producer import BATCH_SIZE, Message, parse, parse_in_child

__all__ = ["IngestError", "IngestSummary", "StrictStop", "ingest_paths"]

# Below this many bytes a second process costs more (fork, queue) than it saves.
PARALLEL_MIN_BYTES = 4 * 1024 * 1024
# A transaction holds at most this many records, and stays open at most this long (see the module docstring).
COMMIT_RECORDS = 8000
COMMIT_SECONDS = 2.0


@dataclass
class IngestSummary:
    """What an ingest did.  ``read`` = records the readers yielded; each paper record is then exactly one of
    new (a new paper), merged (a new source record of a known paper), updated (a changed version of a record
    already ingested) or unchanged; ``skipped`` = malformed records reported and passed over."""

    files: int = 0
    read: int = 0
    new: int = 0
    merged: int = 0
    updated: int = 0
    unchanged: int = 0
    skipped: int = 0
    citations: int = 0
    entities: int = 0
    batches: int = 0
    seconds: float = 0.0
    per_format: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    stopped: str | None = None  # the malformed record that stopped a --strict ingest

    @property
    def records_per_s(self) -> float:
        return self.read / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "files": self.files, "read": self.read, "new": self.new, "merged": self.merged,
            "updated": self.updated, "unchanged": self.unchanged, "skipped": self.skipped,
            "citations": self.citations, "entities": self.entities, "batches": self.batches,
            "seconds": round(self.seconds, 3), "records_per_s": round(self.records_per_s, 1),
            "per_format": dict(self.per_format), "errors": self.errors[:100], "error_count": self.skipped,
            "notes": self.notes, "stopped": self.stopped,
        }


def _use_child(planned: list[PlannedFile], parallel: bool | None) -> bool:
    if parallel is not None:
        return parallel
    if not current().ingest_parallel:
        return False
    return (os.cpu_count() or 1) >= 2 and sum(f.size for f in planned) >= PARALLEL_MIN_BYTES


def ingest_paths(store: Store, paths: list[str | Path] | tuple[str | Path, ...], *, format: str | None = None,
                 strict: bool = False, show_progress: bool = True, echo_errors: bool = True,
                 parallel: bool | None = None, batch_size: int = BATCH_SIZE,
                 commit_records: int = COMMIT_RECORDS) -> IngestSummary:
    """Ingest files and folders (plain, gzip or bz2; format sniffed unless ``format`` names a reader).

    Raises :class:`IngestError` before writing anything when a path is missing, a folder holds nothing readable
    or a format is unknown; raises :class:`StrictStop` (after committing the records before it) under ``strict``
    at the first malformed record."""
    planned, notes = plan(list(paths), format)
    summary = IngestSummary(files=len(planned), notes=notes)
    for note in notes:
        if echo_errors:
            print(note, file=sys.stderr)
    per_format: Counter[str] = Counter()
    started = time.perf_counter()
    messages = (parse_in_child if _use_child(planned, parallel) else parse)(planned, strict=strict,
                                                                           batch_size=batch_size)
    bar = progress(desc="ingest", unit="rec", enabled=show_progress)
    try:
        with gc_paused(), _writer_settings(store):
            _consume(messages, CommitGroups(store.db, commit_records), summary, per_format, bar, echo_errors)
    finally:
        bar.close()
        summary.seconds = time.perf_counter() - started
        summary.per_format = dict(per_format)
    return summary


@contextmanager
def _writer_settings(store: Store) -> Iterator[None]:
    """The writer's SQLite connection, for the length of an ingest, without two things the web's reads want.

    No memory map: a map counts every page it touches towards the process's memory, and an ingest touches the whole
    store (measured on three copies of the OAI-PMH harvest, the writer grew past 300 MB with the map and stayed flat
    without).  No per-row foreign-key checks: the writer makes every parent row in the same transaction as its
    children, and the checks cost a tenth of its time; the tests run ``PRAGMA foreign_key_check`` after ingests of
    every source instead.  Both are restored afterwards."""
    if store.db.dialect != "sqlite":
        yield
        return
    conn = store.db.conn  # pragmas, not statements to wrap in a transaction
    mmap = conn.execute("PRAGMA mmap_size").fetchone()[0]
    foreign_keys = conn.execute("PRAGMA foreign_keys").fetchone()[0]
    conn.execute("PRAGMA mmap_size=0")
    conn.execute("PRAGMA foreign_keys=OFF")
    try:
        yield
    finally:
        conn.execute(f"PRAGMA mmap_size={int(mmap or 0)}")
        conn.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")


class CommitGroups:
    """One transaction around several batches, opened on the first and committed by :meth:`commit` or once it
    holds ``COMMIT_RECORDS`` records or has been open ``COMMIT_SECONDS``.  Each batch still takes its own change
    sequence number and counts; a batch that fails part-way is undone with its whole group (:meth:`rollback`)."""

    def __init__(self, db: Any, records: int = COMMIT_RECORDS, seconds: float = COMMIT_SECONDS):
        self.db, self.max_records, self.max_seconds = db, records, seconds
        self._open: ExitStack | None = None
        self._records = 0
        self._since = 0.0

    def begin(self) -> None:
        if self._open is None:
            stack = ExitStack()
            stack.enter_context(self.db.transaction())
            self._open, self._records, self._since = stack, 0, time.monotonic()

    def applied(self, records: int) -> None:
        self._records += records
        if self._records >= self.max_records or time.monotonic() - self._since >= self.max_seconds:
            self.commit()

    def commit(self) -> None:
        if self._open is not None:
            stack, self._open = self._open, None
            stack.close()

    def rollback(self, exc: BaseException) -> None:
        if self._open is not None:
            stack, self._open = self._open, None
            stack.__exit__(type(exc), exc, exc.__traceback__)


def _consume(messages: Iterator[Message], groups: CommitGroups, summary: IngestSummary, per_format: Counter[str],
             bar: Any, echo_errors: bool) -> None:
    """The writer's loop: batches applied in commit groups, errors echoed as they come.

    Whatever stops the loop between batches (a ``--strict`` stop, a parser crash, Ctrl-C) commits the batches
    already applied, which are whole; a failure while applying a batch rolls the open group back."""
    try:
        _apply_messages(messages, groups, summary, per_format, bar, echo_errors)
    except _ApplyFailed as failed:
        groups.rollback(failed.cause)
        raise failed.cause from None
    finally:
        groups.commit()


class _ApplyFailed(Exception):
    """Carries an exception raised while applying a batch, so that only that case rolls back."""

    def __init__(self, cause: BaseException):
        self.cause = cause


def _apply_messages(messages: Iterator[Message], groups: CommitGroups, summary: IngestSummary,
                    per_format: Counter[str], bar: Any, echo_errors: bool) -> None:
    from ..merge import writer

    for kind, payload in messages:
        if kind == "batch":
            groups.begin()
            try:
                result = writer.apply_in_transaction(groups.db, payload)
            except BaseException as exc:
                raise _ApplyFailed(exc) from exc
            groups.applied(len(payload))
            summary.batches += 1
            summary.read += len(payload)
            for item in payload:
                per_format[item.format] += 1
            counts = result.counts
            summary.new += counts["new"]
            summary.merged += counts["merged"]
            summary.updated += counts["updated"]
            summary.unchanged += counts["unchanged"]
            summary.citations += counts["citations"]
            summary.entities += counts["entities"]
            bar.update(len(payload))
            del payload
            collect_young()
        elif kind == "idle":  # the parser has nothing ready: do not hold the write lock while waiting
            groups.commit()
        elif kind == "errors":
            count, lines = payload
            summary.skipped += count
            summary.errors.extend(lines[: max(0, 1000 - len(summary.errors))])
            if echo_errors:
                for line in lines:
                    print(line, file=sys.stderr)
        elif kind == "strict":
            summary.stopped = payload
            raise StrictStop(payload)
        elif kind == "crash":
            raise RuntimeError(f"ingest parser failed:\n{payload}")
