"""The parsing half of the ingest: files -> readers -> encoded batches, in this process or in a second one.

Parsing XML/JSON and writing SQLite each take about one core, so on a machine with two the parser runs in a
child process and hands batches over a bounded queue (bounded memory: at most ``QUEUE_BATCHES`` batches wait).
The work between them is balanced as it goes: the more batches wait for the writer, the more time the child has to
spare, and the larger the share of its next batch's papers it prepares itself (``encode.with_prepared``: none with
an empty queue, all with ``PREPARE_ALL_WAITING`` batches waiting), work the writer would otherwise do.  A share
rather than all-or-nothing, because the queue also fills for a moment whenever the writer commits (measured on the
OAI-PMH harvest: all-or-nothing left one side a fifth busier than the other, the share within 5%).  Which side is
slower depends on the format and the store, so no split is fixed.
The child dies with its parent (``PR_SET_PDEATHSIG``), so a ``kill -9`` of the ingest leaves no orphan behind.

Messages, in order: ``("batch", [Item...])``, ``("errors", (records skipped, [line...], problems, records cleaned))``,
``("file", path)`` when a file starts,
``("idle", None)`` when the child has had nothing ready for a second,
and finally ``("done", None)``, ``("strict", message)`` or ``("crash", traceback)``.
"""

from __future__ import annotations

import multiprocessing
import os
import queue as queue_module
import signal
import traceback
from collections.abc import Iterator
from typing import Any

from ..gcpause import collect_young, gc_paused
from ..merge.writer import Item
from ..sources.base import ErrorSink, ReadError, StrictStop
from .encode import encode, pack, unpack, with_prepared
from .files import PlannedFile, open_binary
from .scrub import might_hold_control, scrub

BATCH_SIZE = 2000
QUEUE_BATCHES = 4
PREPARE_ALL_WAITING = 3
Message = tuple[str, Any]


def parse(planned: list[PlannedFile], *, strict: bool = False, batch_size: int = BATCH_SIZE) -> Iterator[Message]:
    """Read every file in order and yield messages (see the module docstring)."""
    sink = ErrorSink(strict=strict, echo=False)
    reported = problems = notices = shown = 0
    batch: list[Item] = []

    def errors_since() -> Iterator[Message]:
        nonlocal reported, problems, notices, shown
        if sink.count > reported or sink.problems > problems or sink.notices > notices:
            new = sink.messages[shown:]
            yield "errors", (sink.count - reported, new, sink.problems - problems, sink.notices - notices)
            reported, problems, notices, shown = sink.count, sink.problems, sink.notices, len(sink.messages)

    def stop(message: str) -> Iterator[Message]:
        """--strict: hand over what was read before the bad record, then say why the ingest stops."""
        if batch:
            yield "batch", batch
        yield from errors_since()
        yield "strict", message

    for file in planned:
        yield "file", str(file.path)
        name = str(file.path)
        last = "1"
        reason = None
        try:
            with open_binary(file.path) as stream:
                for record in file.reader.read(stream, name, sink):
                    item = encode(record, file.format)
                    if might_hold_control(item.data) or might_hold_control(item.key):
                        record, removed = scrub(record)
                        if removed:
                            item = encode(record, file.format)
                            sink.notice(name, item.locator.removeprefix("line "),
                                        f"{removed} control character(s) removed from the record's text fields")
                    last = item.locator
                    batch.append(item)
                    if len(batch) >= batch_size:
                        yield "batch", batch
                        batch = []
                        yield from errors_since()
        except StrictStop as exc:
            yield from stop(str(exc))
            return
        except (ReadError, EOFError, OSError) as exc:
            reason = f"cannot read further: {exc}"
        except Exception as exc:  # a reader's bug costs the rest of that file, not the whole ingest
            reason = f"reader {file.format} failed: {exc!r}"
        if reason is not None:
            try:
                sink.report(name, last.removeprefix("line "), reason)
            except StrictStop as exc:
                yield from stop(str(exc))
                return
        yield from errors_since()
    if batch:
        yield "batch", batch
    yield from errors_since()
    yield "done", None


def _die_with_parent() -> None:
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass


def _child(planned: list[PlannedFile], strict: bool, batch_size: int, out: Any, parent: int) -> None:
    _die_with_parent()
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)
    try:
        with gc_paused():
            for kind, payload in parse(planned, strict=strict, batch_size=batch_size):
                if kind == "batch":
                    share = min(_waiting(out), PREPARE_ALL_WAITING) * len(payload) // PREPARE_ALL_WAITING
                    if share:
                        payload = with_prepared(payload[:share]) + payload[share:]
                    out.put((kind, pack(payload)))
                    del payload
                    collect_young()
                else:
                    out.put((kind, payload))
    except BaseException:
        out.put(("crash", traceback.format_exc()))


def _waiting(out: Any) -> int:
    try:
        return out.qsize()
    except NotImplementedError:  # macOS has no sem_getvalue: never prepare on the parser side
        return 0


def parse_in_child(planned: list[PlannedFile], *, strict: bool = False,
                   batch_size: int = BATCH_SIZE) -> Iterator[Message]:
    """Like :func:`parse`, with the parsing done by a forked child process."""
    context = multiprocessing.get_context("fork")
    out = context.Queue(maxsize=QUEUE_BATCHES)
    process = context.Process(target=_child, args=(planned, strict, batch_size, out, os.getpid()), daemon=True,
                              name="paperatlas-ingest-parser")
    process.start()
    try:
        while True:
            try:
                message = out.get(timeout=1.0)
            except queue_module.Empty:
                yield "idle", None
                if not process.is_alive():
                    yield "crash", f"the parser process ended unexpectedly (exit status {process.exitcode})"
                    return
                continue
            if message[0] == "batch":
                message = ("batch", unpack(message[1]))
            yield message
            if message[0] in ("done", "strict", "crash"):
                return
    finally:
        if process.is_alive():
            process.terminate()
        process.join(timeout=5)
        out.close()
        out.join_thread()
