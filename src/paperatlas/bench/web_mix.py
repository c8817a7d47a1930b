"""``paperatlas bench web --mix``: the site under a realistic workload, not the response cache's best case.

What the plain ``bench web`` load run measures (a few hundred URLs requested again and again after a warm-up) is
what the response cache does; a real crowd asks for thousands of different pages, most of them rarely.  So:

1. **URLs from the store being served** (the demo store, say: ``--data-dir``): every kind of page a visitor or a
   client asks for, paper, author, name cluster, category, search with queries made of the store's own title
   words, the JSON API and the Atom feeds, at least ``--distinct`` different URLs in all where the store has them.
2. **A Zipf-distributed sequence** of requests over them (exponent ``ZIPF_S`` within each kind, kinds weighted by
   ``KIND_WEIGHTS``): a few pages are hot, most of the pool is a long tail that misses every cache.
3. **A cold start for every run**: a fresh server process (its response cache and SQLite page cache empty; the
   OS's file cache is whatever the machine has), no warm-up; then ``wrk`` (or the Python load generator) keeps
   ``connections`` requests in flight for ``duration`` seconds.
4. **Peak PSS of each server worker**, sampled from ``/proc/PID/smaps_rollup`` twice a second: proportional set
   size charges shared pages (the SQLite file mapped by every thread, the interpreter) once across processes, so
   it is the memory the workers really cost.

The matrix is 1 and 2 workers x 32 and 64 connections unless ``--workers`` / ``--connections`` name one.
"""

from __future__ import annotations

import bisect
import itertools
import os
import random
import re
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

KIND_WEIGHTS = {"paper": 26, "author": 18, "name": 6, "category": 6, "search": 16, "api": 14, "feed": 8,
                "home": 6}
ZIPF_S = 1.0
SEQUENCE = 400_000  # requests in the replayed sequence (wrk cycles through it; each thread starts elsewhere)
MIX_TARGETS = {
    32: {"requests_per_s": 600.0, "p99_ms": 150.0, "errors": 0},
    64: {"p99_ms": 300.0, "errors": 0},
    "peak_pss_mb_per_worker": 600.0,
}
_WORD = re.compile(r"[a-z]{4,}")
_STOP = frozenset(["with", "from", "that", "this", "into", "their", "which", "using", "based", "over", "under",
                   "between", "about", "towards"])

MIX_WRK_SCRIPT = """
local counter = 0
local threads = {}
function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end
function init(args)
  bad = {}
  paths = {}
  for line in io.lines(os.getenv("PA_URLS")) do paths[#paths + 1] = line end
  i = id * math.floor(#paths / 8)
end
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
function response(status, headers, body)
  if status >= 400 then bad[status] = (bad[status] or 0) + 1 end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("bad")) do io.write(string.format("status %d: %d\\n", code, n)) end
  end
end
"""


def pool_of_urls(store: Any, rng: random.Random, distinct: int) -> dict[str, list[str]]:
    """Distinct URLs of every kind, from the store's own rows (see the module docstring), each list shuffled so
    that a URL's Zipf rank has nothing to do with its row order."""
    db = store.db
    share = {kind: max(50, distinct * weight // sum(KIND_WEIGHTS.values())) for kind, weight in KIND_WEIGHTS.items()}

    def rows(sql: str, limit: int) -> list[str]:
        found = [row[0] for row in db.query_tuples(sql) if row[0]]
        rng.shuffle(found)
        return found[:limit]

    pids = rows("SELECT pid FROM papers", 10 * distinct)
    aids = rows("SELECT i.aid FROM identities i WHERE EXISTS (SELECT 1 FROM authorships a "
                "WHERE a.identity_id = i.id)", 10 * distinct)
    names = rows("SELECT DISTINCT name FROM authorships", 10 * distinct)
    categories = rows("SELECT DISTINCT primary_category FROM papers WHERE primary_category IS NOT NULL", 1000)
    titles = rows("SELECT title FROM papers WHERE title IS NOT NULL", 20_000)
    words = sorted({w for t in titles for w in _WORD.findall(t.lower()) if w not in _STOP})
    queries: list[str] = []
    seen: set[str] = set()
    for title in titles:  # one- and two-word queries made of the titles' own words, as people search
        found = [w for w in _WORD.findall(title.lower()) if w not in _STOP]
        if not found:
            continue
        start = rng.randrange(len(found))
        query = " ".join(found[start:start + rng.choice((1, 2, 2))])
        if query not in seen:
            seen.add(query)
            queries.append(query)
    if words:
        rng.shuffle(words)
        queries.extend(w for w in words if w not in seen)
    pool = {
        "paper": [f"/paper/{p}" for p in pids[: share["paper"]]],
        "author": [f"/author/{a}" for a in aids[: share["author"]]],
        "name": [f"/name/{quote(n, safe='')}" for n in names[: share["name"]]],
        "category": list(itertools.islice((f"/c/{quote(c, safe='')}" + (f"?offset={20 * page}" if page else "")
                                           for page in range(5) for c in categories), share["category"])),
        "search": [f"/search?{urlencode({'q': q})}" for q in queries[: share["search"]]],
        "api": list(itertools.islice(itertools.chain.from_iterable(zip(
            (f"/api/papers/{p}" for p in pids[share["paper"]:]),
            (f"/api/authors/{a}" for a in aids[share["author"]:]),
            (f"/api/search?{urlencode({'q': q})}" for q in queries[share["search"]:]),
            (f"/api/name-clusters/{quote(n, safe='')}" for n in names[share["name"]:]), strict=False)),
            share["api"])),
        "feed": list(itertools.islice(itertools.chain.from_iterable(zip(
            (f"/author/{a}/feed.atom" for a in aids[share["author"] + share["api"]:]),
            (f"/search/feed.atom?{urlencode({'q': q})}" for q in queries[share["search"] + share["api"]:]),
            strict=False)), share["feed"])) + [f"/feed/trending.atom?category={quote(c, safe='')}"
                                               for c in categories[:50]],
        "home": ["/", "/feed/trending.atom", "/api/trending"] + [f"/?offset={20 * i}" for i in range(1, 40)],
    }
    return {kind: urls for kind, urls in pool.items() if urls}


def zipf_sequence(pool: dict[str, list[str]], rng: random.Random, length: int) -> list[str]:
    """``length`` requests: a kind by ``KIND_WEIGHTS``, then a URL of that kind by Zipf rank."""
    kinds = list(pool)
    weights = [KIND_WEIGHTS[k] for k in kinds]
    cumulative: dict[str, list[float]] = {}
    for kind, urls in pool.items():
        total, running = 0.0, []
        for rank in range(1, len(urls) + 1):
            total += 1.0 / rank**ZIPF_S
            running.append(total)
        cumulative[kind] = running
    out = []
    for kind in rng.choices(kinds, weights=weights, k=length):
        running = cumulative[kind]
        out.append(pool[kind][min(len(running) - 1, bisect.bisect_left(running, rng.random() * running[-1]))])
    return out


def _pss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup", encoding="ascii") as rollup:
            for line in rollup:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024.0
    except (OSError, ValueError):
        return None
    return None


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
            return [int(p) for p in children.read().split()]
    except OSError:
        return []


class PssSampler:
    """Peak PSS per process of a server: its master and every worker, sampled twice a second in a thread."""

    def __init__(self, pid: int, interval: float = 0.5) -> None:
        self.pid = pid
        self.interval = interval
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> None:
        for pid in [self.pid, *_children(self.pid)]:
            value = _pss_mb(pid)
            if value is not None:
                self.peaks[pid] = max(self.peaks.get(pid, 0.0), value)

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(self.interval)

    def __enter__(self) -> PssSampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._sample()
        self._stop.set()
        self._thread.join(timeout=5)

    def figures(self, workers: int) -> dict[str, float]:
        """The worker processes' peak (the master itself when it serves alone) and the sum over all."""
        worker_peaks = [v for pid, v in self.peaks.items() if pid != self.pid] if workers > 1 else \
            [self.peaks.get(self.pid, 0.0)]
        return {"server_peak_pss_mb_per_worker": round(max(worker_peaks, default=0.0), 1),
                "server_peak_pss_mb_total": round(sum(self.peaks.values()), 1)}


def mix_run(data_dir: Path, database: str | None, sequence: list[str], *, connections: int, workers: int,
            duration: float, tool: str) -> dict[str, Any]:
    """One cold run: a fresh server, no warm-up, ``duration`` seconds of the sequence, its peak PSS."""
    from ..web.serve import free_port, server_argv
    from .web import drive_load, wait_ready

    port = free_port()
    env = {**os.environ, "PAPERATLAS_DATA_DIR": str(data_dir), "PAPERATLAS_QUIET": "1"}
    env.pop("PAPERATLAS_DATABASE_URL", None)
    if database:
        env["PAPERATLAS_DATABASE_URL"] = database
    server = subprocess.Popen(
        server_argv("127.0.0.1", port, workers),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        started = time.perf_counter()
        # the app warms up before it listens; a server of several workers listens once every one is warm
        wait_ready(port, server, timeout=600)
        ready_s = round(time.perf_counter() - started, 1)
        with PssSampler(server.pid) as pss:
            figures = drive_load(port, sequence, script=MIX_WRK_SCRIPT, tool=tool, connections=connections,
                                 duration=duration, max_requests=len(sequence), wrk_args=("--timeout", "10s"))
        figures.update(pss.figures(workers))
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    requested = figures.get("requests", 0)
    figures["distinct_urls_requested"] = len(set(sequence[: max(0, requested)]))
    figures.update(connections=connections, server_workers=workers, duration_s=duration, server_start_s=ready_s)
    return figures


def prepare_mix(store: Any, *, distinct: int, tool: str, seed: int = 19) -> dict[str, Any]:
    """The URL pool and the request sequence (``store`` is only read, and may be closed afterwards)."""
    rng = random.Random(seed)
    pool = pool_of_urls(store, rng, distinct)
    sequence = zipf_sequence(pool, rng, SEQUENCE)
    if tool == "wrk" and not shutil.which("wrk"):
        tool = "python"
    return {"pool": pool, "sequence": sequence, "tool": tool}


def matrix(data_dir: Path, database: str | None, plan: dict[str, Any], *, connection_counts: list[int],
           worker_counts: list[int], duration: float) -> dict[str, Any]:
    pool, sequence, tool = plan["pool"], plan["sequence"], plan["tool"]
    runs = []
    for workers in worker_counts:
        for connections in connection_counts:
            runs.append(mix_run(data_dir, database, sequence, connections=connections, workers=workers,
                                duration=duration, tool=tool))
    verdicts = []
    for run in runs:
        target = MIX_TARGETS.get(run["connections"])
        verdict: dict[str, Any] = {"workers": run["server_workers"], "connections": run["connections"]}
        if isinstance(target, dict):
            if "requests_per_s" in target:
                verdict["requests_per_s_vs_600"] = round(run.get("requests_per_s", 0) / target["requests_per_s"], 3)
            verdict["p99_vs_target"] = round(run.get("p99_ms", 0) / target["p99_ms"], 3)
            verdict["errors"] = run.get("errors", 0)
        verdict["pss_vs_600mb"] = round(run["server_peak_pss_mb_per_worker"] /
                                        float(MIX_TARGETS["peak_pss_mb_per_worker"]), 3)  # type: ignore[arg-type]
        verdicts.append(verdict)
    return {
        "workload": {
            "distinct_urls": sum(len(urls) for urls in pool.values()),
            "per_kind": {kind: len(urls) for kind, urls in pool.items()},
            "kind_weights": KIND_WEIGHTS, "zipf_s": ZIPF_S, "sequence": len(sequence),
            "cache": "cold: a fresh server per run, no warm-up (response and SQLite caches empty)",
            "tool": tool,
        },
        "runs": runs,
        "targets": {"32 connections": MIX_TARGETS[32], "64 connections": MIX_TARGETS[64],
                    "peak_pss_mb_per_worker": MIX_TARGETS["peak_pss_mb_per_worker"]},
        "vs_target": verdicts,
    }
