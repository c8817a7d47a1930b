"""``paperatlas bench digest --subscribers N``: digests built and delivered per second to a local SMTP sink.

Papers are real (the 500 arXiv cs papers of ``../shared/data/arxiv/atom-api/cs-2025-12``).  Subscribers are
generated, since no real subscriber list exists: each one's follows are drawn from the real corpus with its own
distributions (categories weighted by their paper counts, authors by theirs, saved searches taken from real title
bigrams), and the output says so.  The SMTP sink is aiosmtpd in a separate process (a real TCP session, as a relay
on the same host would be), so the figures include SMTP, MIME building, Jinja rendering and the send ledger.
Target (issue 8): 10,000 subscribers built and delivered in <= 60 s on the 2-core machine.
"""

from __future__ import annotations

import itertools
import multiprocessing as mp
import os
import random
import re
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import click

from ..shared_data import shared_data_dir_or_default
from .report import emit, json_option, machine, peak_rss_mb

TARGET_SUBSCRIBERS = 10_000
TARGET_SECONDS = 60.0


def _sink_process(port: int, ready, stop, count, cpu) -> None:  # runs in the child process

    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope) -> str:
            with count.get_lock():
                count.value += 1
            return "250 2.0.0 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    cpu.value = time.process_time()
    controller.stop()


def _default_corpus() -> Path:
    return shared_data_dir_or_default("arxiv") / "arxiv" / "atom-api" / "cs-2025-12"


def generate_subscribers(store, n: int, seed: int = 7) -> dict[str, int]:
    """Insert ``n`` confirmed subscribers with follows drawn from the store's real papers."""
    import orjson

    from ..digest.subscriptions import stamp, utcnow
    from ..digest.tokens import new_nonce

    rng = random.Random(seed)
    db = store.db
    categories = Counter()
    words: Counter[str] = Counter()
    for cats, title in db.query_tuples("SELECT categories, title FROM papers"):
        categories.update(orjson.loads(cats or "[]"))
        tokens = [w for w in re.findall(r"[a-z][a-z\-]{3,}", (title or "").lower())]
        words.update(" ".join(pair) for pair in itertools.pairwise(tokens))
    authors = db.query_tuples("SELECT i.aid, COUNT(*) FROM identities i JOIN authorships a ON a.identity_id = i.id "
                              "GROUP BY i.aid")
    cat_names, cat_weights = zip(*categories.most_common(), strict=True)
    aids, aid_weights = zip(*authors, strict=True)
    queries = [q for q, c in words.most_common(300) if c >= 2] or [q for q, _ in words.most_common(50)]
    now = stamp(utcnow())
    subscribers, follows = [], []
    kinds = Counter()
    for i in range(n):
        frequency = "weekly" if rng.random() < 0.3 else "daily"
        subscribers.append((f"reader{i}@bench.example", frequency, "confirmed", new_nonce(), now, now, now))
        if rng.random() < 0.6:
            for c in set(rng.choices(cat_names, cat_weights, k=rng.randint(1, 3))):
                follows.append((i, "category", c))
        if rng.random() < 0.4:
            for a in set(rng.choices(aids, aid_weights, k=rng.randint(1, 4))):
                follows.append((i, "author", a))
        if rng.random() < 0.25:
            follows.append((i, "query", rng.choice(queries)))
    with db.transaction():
        first = int(db.scalar("SELECT COALESCE(MAX(id), 0) FROM digest_subscribers")) + 1
        db.executemany("INSERT INTO digest_subscribers (email, frequency, status, nonce, created_at, confirmed_at, "
                       "modified_at) VALUES (?, ?, ?, ?, ?, ?, ?)", subscribers)
        db.executemany("INSERT INTO digest_follows (subscriber_id, kind, value) VALUES (?, ?, ?)",
                       [(first + i, kind, value) for i, kind, value in follows])
    kinds.update(kind for _, kind, _ in follows)
    return {"follows_" + k: v for k, v in sorted(kinds.items())}


@click.command()
@click.option("--subscribers", "n", type=click.IntRange(1, 1_000_000), default=TARGET_SUBSCRIBERS, show_default=True,
              help="How many subscribers to build and deliver digests for.")
@click.option("--corpus", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Folder of arXiv Atom feeds [default: ../shared/data/arxiv/atom-api/cs-2025-12].")
@click.option("--connections", type=click.IntRange(1, 64), default=4, show_default=True,
              help="SMTP sessions used in parallel.")
@json_option
def bench_digest(n: int, corpus: Path | None, connections: int, as_json: bool) -> None:
    """Digests built per second and delivered per second to a local aiosmtpd sink, in one run."""
    import importlib.util

    from ..digest.config import DigestConfig, parse_smtp_url
    from ..digest.sender import send_digests
    from ..store import open_store
    from .fixtures.atom_papers import latest_submitted, load_atom_papers
    from .fixtures.smtp_sink import free_port

    if importlib.util.find_spec("aiosmtpd") is None:  # a test extra: PaperAtlas itself never needs it
        raise click.ClickException("bench digest delivers to a local aiosmtpd server: pip install 'paperatlas[test]'")
    corpus = corpus or _default_corpus()
    if not corpus.is_dir():
        raise click.ClickException(f"no corpus at {corpus} (give --corpus)")
    with tempfile.TemporaryDirectory(prefix="paperatlas-bench-digest-") as tmp:
        store = open_store(Path(tmp))
        papers = load_atom_papers(store, corpus)
        day = date.fromisoformat(latest_submitted(store))
        t0 = time.perf_counter()
        follow_counts = generate_subscribers(store, n)
        generate_seconds = time.perf_counter() - t0

        ctx = mp.get_context("spawn")
        port = free_port()
        ready, stop, count, sink_cpu = ctx.Event(), ctx.Event(), ctx.Value("i", 0), ctx.Value("d", 0.0)
        sink = ctx.Process(target=_sink_process, args=(port, ready, stop, count, sink_cpu), daemon=True)
        sink.start()
        try:
            if not ready.wait(30):
                raise click.ClickException("the local SMTP sink did not start")
            config = DigestConfig(smtp=parse_smtp_url(f"smtp://127.0.0.1:{port}"),
                                  mail_from="PaperAtlas <digest@bench.example>",
                                  public_url="https://atlas.example", secret_key="bench-secret")
            started, cpu_started = time.perf_counter(), time.process_time()
            report = send_digests(store, config, day, connections=connections, show_progress=True)
            seconds = time.perf_counter() - started
            main_cpu = time.process_time() - cpu_started
            time.sleep(0.2)
            received = count.value
        finally:
            stop.set()
            sink.join(10)
        sent_in_ledger = store.db.scalar("SELECT COUNT(*) FROM digest_sends WHERE state = 'sent'")
        store.close()

    delivered = report.sent
    built = report.sent + report.empty
    per_10k = seconds * TARGET_SUBSCRIBERS / n
    figures = {
        "subscribers": n,
        "papers": papers,
        "as_of": day.isoformat(),
        "data": "papers real (arXiv Atom cs-2025-12); subscribers generated with follows drawn from the real "
                "corpus (categories, authors, title bigrams by their real frequencies)",
        **follow_counts,
        "generate_seconds": round(generate_seconds, 3),
        "digests_built": report.sent + report.empty,
        "digests_empty": report.empty,
        "digests_delivered": delivered,
        "received_by_sink": received,
        "ledger_sent": sent_in_ledger,
        "smtp_connections": connections,
        "build_seconds": report.build_seconds,
        "total_seconds": round(seconds, 3),
        "built_per_second": round(built / report.build_seconds, 1) if report.build_seconds else 0,
        "delivered_per_second": round(delivered / seconds, 1) if seconds else 0,
        "cpu_ms_per_digest_sender": round(1000 * main_cpu / max(1, n), 3),
        "cpu_ms_per_digest_sink": round(1000 * sink_cpu.value / max(1, n), 3),
        "load_average_1min": round(os.getloadavg()[0], 2),
        "target": {"subscribers": TARGET_SUBSCRIBERS, "seconds": TARGET_SECONDS,
                   "projected_seconds_for_10k": round(per_10k, 2),
                   "ratio_to_target": round(per_10k / TARGET_SECONDS, 3),
                   "met": per_10k <= TARGET_SECONDS},
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "machine": machine(),
    }
    emit("bench digest", figures, as_json)
