"""``digest send``: every due digest goes out exactly once, through a ledger in the store.

The protocol, per (subscriber, period):

1. **claim**: build the digest and insert its ledger row in state ``attempting`` together with the content snapshot
   (paper ids) and a deterministic Message-ID, committed *before* its SMTP transaction starts (claims are committed
   in batches of ``CLAIM_BATCH``: a claimed row that never reached SMTP is simply sent by the next run, so batching
   claims costs nothing in safety);
2. **send** over SMTP;
3. **mark**: once the server has answered 250 to DATA, set ``sent`` and record the papers as sent, in one
   transaction.

Recovery rule for the next run: a row that is ``sent``, ``empty``, ``failed`` or ``cancelled`` is never touched
again (so nothing is sent twice); a row left ``pending`` (the server answered 4xx: certainly not accepted) or
``attempting`` (the run died, or the connection dropped, somewhere between step 1 and step 3) is sent again from
its snapshot with the *same* Message-ID (so nothing is skipped).

The residual window, stated honestly: if the process dies after the server accepted the message (250 to DATA) but
before the step-3 commit lands — a window of about one SQLite commit, well under a millisecond — the subscriber
receives that digest twice, as two copies with the identical Message-ID, which mailbox providers that de-duplicate
on Message-ID (Gmail does) collapse into one.  No protocol can close this window over SMTP, which has no
idempotent delivery; the ledger narrows it to one message per crash, never a batch.  A lock file keeps two
``digest send`` runs from working on the same ledger at once.
"""

from __future__ import annotations

import fcntl
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ..progress import progress
from ..store import Store
from .build import Digest, DigestBuilder, period_key
from .config import ConfigError, DigestConfig
from .message import build_message, envelope_address, mail_domain
from .render import Links, render_digest, render_notice
from .smtp import Mailer, MailerConfigError, PermanentFailure, TemporaryFailure
from .subscriptions import Subscriber, list_subscribers, prune_events, stamp, utcnow
from .tokens import Tokens

EX_TEMPFAIL = 75
DONE_STATES = ("sent", "empty", "failed", "cancelled")
CLAIM_BATCH = 32


class SendBusy(RuntimeError):
    """Another ``digest send`` holds the lock."""


@dataclass
class SendReport:
    date: str
    dry_run: bool = False
    due: int = 0
    sent: int = 0
    empty: int = 0
    failed: int = 0
    temporary: int = 0
    resumed: int = 0  # unfinished rows of an earlier run, sent now from their snapshot
    cancelled: int = 0
    already_done: int = 0
    build_seconds: float = 0.0
    deliver_seconds: float = 0.0
    seconds: float = 0.0
    messages: list[dict[str, Any]] = field(default_factory=list)  # dry run: what would go out

    @property
    def exit_code(self) -> int:
        """0 all sent or nothing due; 1 some failed permanently; 75 temporary failures left for the next run."""
        if self.failed:
            return 1
        if self.temporary:
            return EX_TEMPFAIL
        return 0

    def as_dict(self) -> dict[str, Any]:
        out = {k: v for k, v in self.__dict__.items() if k != "messages"}
        out["exit_code"] = self.exit_code
        if self.dry_run:
            out["messages"] = self.messages
        return out


@contextmanager
def send_lock(store: Store) -> Iterator[None]:
    path = store.path("digest-send.lock")
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise SendBusy("another 'digest send' is running") from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def message_id(tokens: Tokens, config: DigestConfig, subscriber_id: int, period: str) -> str:
    domain = mail_domain(config.mail_from or "digest@paperatlas.invalid")
    return f"<digest.{period}.{subscriber_id}.{tokens.message_id_tag(subscriber_id, period)}@{domain}>"


def digest_message(digest: Digest, config: DigestConfig, tokens: Tokens, msg_id: str,
                   eight_bit: bool = False) -> tuple[str, bytes]:
    """(envelope recipient, the message as bytes) for one digest."""
    links = Links(config, tokens, digest.subscriber)
    subject, text, html = render_digest(digest, links)
    unsubscribe = links.unsubscribe
    # the rendered body carries its own unsubscribe link; the header one is what one-click clients POST to
    data = build_message(
        sender=config.mail_from or "PaperAtlas <digest@paperatlas.invalid>",
        recipient=digest.subscriber.email,
        subject=subject,
        text=text,
        html=html,
        message_id=msg_id,
        headers={
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "List-Id": f"PaperAtlas digest <digest.{mail_domain(config.mail_from or '')}>",
            "Auto-Submitted": "auto-generated",
            "X-PaperAtlas-Period": digest.period,
        },
        eight_bit=eight_bit,
    )
    return digest.subscriber.email, data


def send_notice(config: DigestConfig, subscriber: Subscriber, kind: str, mailer: Mailer | None = None) -> None:
    """Mail the confirmation (``confirm``) or the manage link (``manage``) now (raises on failure)."""
    config.require_mail()
    tokens = Tokens(config.secret_key)
    links = Links(config, tokens, subscriber)
    subject, text, html = render_notice(kind, links)
    msg_id = f"<{kind}.{subscriber.id}.{int(time.time() * 1000)}@{mail_domain(config.mail_from or '')}>"
    data = build_message(sender=config.mail_from or "", recipient=subscriber.email, subject=subject, text=text,
                         html=html, message_id=msg_id, headers={"Auto-Submitted": "auto-generated"})
    own = mailer is None
    mailer = mailer or Mailer(config.smtp)  # type: ignore[arg-type]
    try:
        mailer.send(envelope_address(config.mail_from or ""), subscriber.email, data)
    finally:
        if own:
            mailer.close()


def notice_to_outbox(config: DigestConfig, data_dir: Any, subscriber: Subscriber, kind: str) -> None:
    """No SMTP relay configured: write the confirmation / manage mail to the data folder's outbox instead (the
    demo serves it at /outbox to loopback clients), so subscribing is never a dead end."""
    from ..readers import outbox

    links = Links(config, Tokens(config.secret_key), subscriber)
    subject, text, _ = render_notice(kind, links)
    sender = config.mail_from or "PaperAtlas <no-reply@paperatlas.local>"
    outbox.write(data_dir, outbox.compose(sender, subscriber.email, subject, text))


def _set_state(store: Store, sid: int, period: str, state: str, error: str | None = None) -> None:
    store.db.execute("UPDATE digest_sends SET state = ?, last_error = ?, updated_at = ? "
                     "WHERE subscriber_id = ? AND period = ?", (state, error, stamp(utcnow()), sid, period))


def send_digests(store: Store, config: DigestConfig, on: date, *, dry_run: bool = False,
                 mailer: Mailer | None = None, connections: int | None = None, show_progress: bool = False,
                 fault: Callable[[str, int], None] | None = None) -> SendReport:
    """Send every due digest for date ``on``; see the module docstring for the exactly-once protocol.

    Delivery runs over ``connections`` SMTP connections at once (default: the URL's ``connections`` option, 4),
    each in its own thread, while this thread builds and claims the next digests; a given ``mailer`` means exactly
    that one connection.  ``fault(point, delivered)`` is called at "accepted" (the server said 250, the ledger is
    not yet written) and "recorded" (ledger written): tests use it to crash the run at the worst moments.
    """
    report = SendReport(date=on.isoformat(), dry_run=dry_run)
    started = time.perf_counter()
    if dry_run:
        _run(store, config, on, report, [], show_progress, fault)
    else:
        config.require_mail()
        with send_lock(store):
            prune_events(store)
            count = connections or config.smtp.connections  # type: ignore[union-attr]
            mailers = [mailer] if mailer else [Mailer(config.smtp) for _ in range(max(1, count))]  # type: ignore
            try:
                _run(store, config, on, report, mailers, show_progress, fault)
            finally:
                if mailer is None:
                    for each in mailers:
                        each.close()
    report.seconds = round(time.perf_counter() - started, 3)
    report.build_seconds = round(report.build_seconds, 3)
    report.deliver_seconds = round(report.deliver_seconds, 3)
    return report


@dataclass
class _Outgoing:
    subscriber: Subscriber
    period: str
    paper_ids: list[int]
    recipient: str
    data: bytes
    message_id: str


class _Delivery:
    """Sender threads: each owns one SMTP connection, sends claimed digests and marks them sent.

    A crash in one thread stops the others after the message each is sending (sent and recorded), so a crash leaves
    at most the crashing thread's message in the accepted-but-not-recorded window; a killed process leaves at most
    one message per connection there.
    """

    def __init__(self, store: Store, config: DigestConfig, report: SendReport, mailers: list[Mailer],
                 fault: Callable[[str, int], None] | None):
        self.store, self.config, self.report, self.fault = store, config, report, fault
        self.queue: queue.Queue[_Outgoing | None] = queue.Queue(maxsize=4 * len(mailers))
        self.lock = threading.Lock()
        self.error: BaseException | None = None  # the first crash in a sender: stops the run, re-raised
        self.abort: str | None = None  # the server cannot be reached: stop, leave the rest for the next run
        self.accepted = 0
        self.sender = envelope_address(config.mail_from or "")
        self.eight_bit = mailers[0].supports_8bitmime()  # one server behind every connection
        self.threads = [threading.Thread(target=self._work, args=(m,), daemon=True, name=f"digest-smtp-{i}")
                        for i, m in enumerate(mailers)]
        for thread in self.threads:
            thread.start()

    @property
    def stopped(self) -> bool:
        return self.error is not None or self.abort is not None

    def _work(self, mailer: Mailer) -> None:
        while (item := self.queue.get()) is not None:
            if self.stopped:  # claimed but never handed to SMTP: certainly not sent
                _set_state(self.store, item.subscriber.id, item.period, "pending", self.abort or "run stopped")
                with self.lock:
                    self.report.temporary += 1
                continue
            try:
                self._deliver(mailer, item)
            except BaseException as exc:
                with self.lock:
                    self.error = self.error or exc

    def _deliver(self, mailer: Mailer, item: _Outgoing) -> None:
        sid, period, db, report = item.subscriber.id, item.period, self.store.db, self.report
        t1 = time.perf_counter()
        try:
            mailer.send(self.sender, item.recipient, item.data, self.eight_bit)
        except TemporaryFailure as exc:
            # a 4xx reply means certainly not accepted; a dropped connection might have been: keep 'attempting'
            _set_state(self.store, sid, period, "pending" if exc.code else "attempting", str(exc))
            with self.lock:
                report.temporary += 1
                if exc.connection:
                    self.abort = str(exc)
            return
        except PermanentFailure as exc:
            _set_state(self.store, sid, period, "failed", str(exc))
            with self.lock:
                report.failed += 1
            return
        except MailerConfigError as exc:
            _set_state(self.store, sid, period, "pending", str(exc))
            raise ConfigError(str(exc)) from None
        finally:
            with self.lock:
                report.deliver_seconds += time.perf_counter() - t1
        with self.lock:
            self.accepted += 1
            accepted = self.accepted
        if self.fault:
            self.fault("accepted", accepted)
        now = stamp(utcnow())
        with db.transaction():
            db.execute("UPDATE digest_sends SET state = 'sent', sent_at = ?, updated_at = ?, last_error = NULL "
                       "WHERE subscriber_id = ? AND period = ?", (now, now, sid, period))
            db.executemany("INSERT INTO digest_sent_papers (subscriber_id, paper_id, period) VALUES (?, ?, ?) "
                           "ON CONFLICT (subscriber_id, paper_id) DO NOTHING",
                           [(sid, pid, period) for pid in item.paper_ids])
        with self.lock:
            report.sent += 1
            delivered = report.sent
        if self.fault:
            self.fault("recorded", delivered)

    def put(self, item: _Outgoing) -> None:
        self.queue.put(item)

    def finish(self) -> None:
        for _ in self.threads:
            self.queue.put(None)
        for thread in self.threads:
            thread.join()
        if self.error is not None:
            raise self.error


def _run(store: Store, config: DigestConfig, on: date, report: SendReport, mailers: list[Mailer],
         show_progress: bool, fault: Callable[[str, int], None] | None) -> None:
    db = store.db
    tokens = Tokens(config.secret_key)
    builder = DigestBuilder(store, on)
    confirmed = {s.id: s for s in list_subscribers(store, status="confirmed")}
    ledger = {(r[0], r[1]): (r[2], r[3], r[4]) for r in db.query_tuples(
        "SELECT subscriber_id, period, state, paper_ids, message_id FROM digest_sends "
        "WHERE state NOT IN ('sent', 'empty', 'failed', 'cancelled') OR period IN (?, ?)",
        (period_key("daily", on), period_key("weekly", on)))}

    jobs: list[tuple[Subscriber, str, str | None, str | None]] = []  # subscriber, period, snapshot, message id
    for (sid, period), (state, snapshot, msg_id) in sorted(ledger.items()):
        if state in DONE_STATES:
            continue
        if sid not in confirmed:  # unsubscribed since the claim: never send it
            if not report.dry_run:
                _set_state(store, sid, period, "cancelled", "unsubscribed before delivery")
            report.cancelled += 1
            continue
        jobs.append((confirmed[sid], period, snapshot, msg_id))
    for sid, subscriber in confirmed.items():
        period = period_key(subscriber.frequency, on)
        if (sid, period) in ledger:
            if ledger[(sid, period)][0] in DONE_STATES:
                report.already_done += 1
            continue
        jobs.append((subscriber, period, None, None))
    report.due = len(jobs)

    delivery = _Delivery(store, config, report, mailers, fault) if mailers else None
    eight_bit = delivery is not None and delivery.eight_bit
    batch: list[tuple[_Outgoing, bool, str]] = []  # (message, resumed, snapshot)
    empties: list[tuple[int, str]] = []

    def claim() -> None:
        """Step 1 for a batch in one transaction: fewer commits, and no wider crash window (see the docstring)."""
        if not batch and not empties:
            return
        now = stamp(utcnow())
        claimed: list[_Outgoing] = []
        with db.transaction():
            for sid, period in empties:
                db.execute("INSERT INTO digest_sends (subscriber_id, period, state, message_id, paper_ids, "
                           "created_at, updated_at) VALUES (?, ?, 'empty', '', '[]', ?, ?) "
                           "ON CONFLICT (subscriber_id, period) DO NOTHING", (sid, period, now, now))
            for item, resumed, snapshot in batch:
                if resumed:  # an unfinished row: same snapshot, same Message-ID
                    db.execute("UPDATE digest_sends SET state = 'attempting', attempts = attempts + 1, "
                               "updated_at = ? WHERE subscriber_id = ? AND period = ?",
                               (now, item.subscriber.id, item.period))
                    claimed.append(item)
                elif db.execute(
                    "INSERT INTO digest_sends (subscriber_id, period, state, message_id, paper_ids, attempts, "
                    "created_at, updated_at) VALUES (?, ?, 'attempting', ?, ?, 1, ?, ?) "
                    "ON CONFLICT (subscriber_id, period) DO NOTHING",
                    (item.subscriber.id, item.period, item.message_id, snapshot, now, now),
                ):
                    claimed.append(item)
                else:
                    report.already_done += 1  # another sender claimed it first
        report.resumed += sum(1 for _, resumed, _ in batch if resumed)
        batch.clear()
        empties.clear()
        for item in claimed:
            delivery.put(item)  # type: ignore[union-attr]

    bar = progress(total=len(jobs), desc="digests", unit="mail", enabled=show_progress)
    try:
        for subscriber, period, snapshot, msg_id in jobs:
            bar.update(1)
            if delivery is not None and delivery.stopped:
                if delivery.abort:
                    with delivery.lock:
                        report.temporary += 1
                    continue
                break
            t0 = time.perf_counter()
            resumed = snapshot is not None
            if resumed:
                digest = builder.from_snapshot(subscriber, period, snapshot)  # type: ignore[arg-type]
            else:
                digest = builder.build(subscriber, period)
            if digest.count == 0 and not resumed:
                report.empty += 1
                if delivery is not None:
                    empties.append((subscriber.id, period))
                report.build_seconds += time.perf_counter() - t0
                continue
            msg_id = msg_id or message_id(tokens, config, subscriber.id, period)
            recipient, data = digest_message(digest, config, tokens, msg_id, eight_bit)
            report.build_seconds += time.perf_counter() - t0
            if delivery is None:  # dry run
                report.messages.append({"email": subscriber.email, "period": period, "papers": digest.count,
                                        "message_id": msg_id, "resumed": resumed})
                continue
            batch.append((_Outgoing(subscriber, period, digest.paper_ids, recipient, data, msg_id), resumed,
                          digest.snapshot()))
            if len(batch) >= CLAIM_BATCH:
                claim()
        if delivery is not None and not delivery.stopped:
            claim()
    except BaseException as exc:  # Ctrl-C or a crash here: senders stop after their current message
        if delivery is not None:
            with delivery.lock:
                delivery.error = delivery.error or exc
        raise
    finally:
        bar.close()
        if delivery is not None:
            delivery.finish()
