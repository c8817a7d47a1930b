"""``paperatlas bench web``: how fast the pages are, in the server and under load from a second process.

1. A store of ``--papers`` papers is generated from the real arXiv Atom records in shared/data (real titles,
   abstracts, names, affiliations, categories; recombined, with generated dates, coauthorships and citation
   edges) by ``executemany`` straight into the core tables, and kept for the next run.
2. Server-side render time per page type: each request goes through the whole app (routing, queries, template)
   with the response cache off; an ASGI wrapper times it from the first byte in to the last byte out.
3. A load run: ``uvicorn`` serves the store in its own process(es); ``wrk`` (Debian package) or, without it, a
   Python load generator in another process keeps 32 connections busy on loopback over a mix of paper,
   author, name, home and API URLs, bounded in time and in count.  The response cache is on, as in production.
"""

from __future__ import annotations

import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import click

from ..context import AppContext, fail, pass_app
from ..shared_data import shared_data_dir_or_default
from .report import emit, json_option, machine, peak_rss_mb

TARGETS = {"page_p50_ms": 15.0, "requests_per_s": 500.0, "load_p99_ms": 100.0, "errors": 0}


def _shared_dir(given: str | None) -> Path:
    return Path(given) if given else shared_data_dir_or_default()

def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return 0.0
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def build_store(folder: Path, papers: int, shared: Path, show_progress: bool):
    """Open the bench store in ``folder``, generating it first when it does not hold ``papers`` papers yet."""
    from ..progress import progress
    from ..store import open_store
    from .fixtures.web_store import read_atom, scale_up

    store = open_store(folder)
    have = store.db.scalar("SELECT value FROM meta WHERE key = 'bench_web_papers'")
    if have == str(papers):
        return store, {"store_reused": True}
    store.close()
    shutil.rmtree(folder, ignore_errors=True)
    store = open_store(folder)
    atom = shared / "arxiv" / "atom-api"
    real = []
    for path in sorted(atom.rglob("*.xml")):
        real.extend(read_atom(path))
    if not real:
        store.close()
        fail(f"no real arXiv Atom records under {atom} (set PAPERATLAS_SHARED_DATA or --shared)")
    started = time.perf_counter()
    with progress(total=papers, desc="generating papers", unit="paper", enabled=show_progress) as bar:
        info = scale_up(store, real, papers, progress=bar.update)
    # the metrics stage's own trending ranks and the search stage's full-text index, as `paperatlas build` makes
    # them (no vectors: the search pages answer by BM25 here; `bench search` measures the hybrid path)
    from datetime import date

    from ..metrics.trending import update
    from ..search import update_indexes

    newest = store.db.scalar("SELECT MAX(submitted) FROM papers")
    update(store.db, date.fromisoformat(newest[:10]))
    trending = "metrics.trending.update"
    index = update_indexes(store, full=True, show_progress=show_progress)
    with store.db.transaction():
        store.db.execute("INSERT INTO meta (key, value) VALUES ('bench_web_papers', ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(papers),))
    if store.dialect == "sqlite":
        store.db.execute("ANALYZE")
    return store, {
        "store_reused": False,
        "store_build_s": round(time.perf_counter() - started, 1),
        "real_records": len(real),
        "people": info["people"],
        "trending": trending,
        "search_index_s": round(float(index.get("text_seconds", 0.0)), 1),
    }


def sample_urls(store, count: int, rng: random.Random) -> dict[str, list[str]]:
    db = store.db
    top = db.scalar("SELECT MAX(id) FROM papers") or 0
    top_identity = db.scalar("SELECT MAX(id) FROM identities") or 0

    def pick(sql: str, top_id: int) -> list[str]:
        ids = [rng.randint(1, top_id) for _ in range(count)] if top_id else []
        out = []
        for i in ids:
            value = db.scalar(sql, (i,))
            if value is not None:
                out.append(value)
        return out

    pids = pick("SELECT pid FROM papers WHERE id = ?", top)
    aids = pick("SELECT i.aid FROM identities i WHERE i.id = ? AND EXISTS (SELECT 1 FROM authorships a "
                "WHERE a.identity_id = i.id)", top_identity)
    names = pick("SELECT name FROM identities WHERE id = ?", top_identity)
    words = ["learning", "graph", "language model", "quantum", "segmentation", "robust", "privacy", "neural"]
    from urllib.parse import quote

    return {
        "paper": [f"/paper/{p}" for p in pids],
        "author": [f"/author/{a}" for a in aids],
        "name": [f"/name/{quote(n, safe='')}" for n in names[: max(1, count // 4)]],
        "home": ["/"] + [f"/?offset={20 * i}" for i in range(1, 5)],
        "api_paper": [f"/api/papers/{p}" for p in pids[: max(1, count // 2)]],
        "api_trending": ["/api/trending"],
        "search": [f"/search?q={quote(w)}" for w in words],
    }


class Timed:
    """ASGI wrapper recording the server-side time of each request (first byte in to last byte out)."""

    def __init__(self, app):
        self.app = app
        self.times: list[float] = []

    async def __call__(self, scope, receive, send):
        start = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            self.times.append((time.perf_counter() - start) * 1000)


def render_times(store, urls: dict[str, list[str]], per_type: int) -> dict[str, Any]:
    from fastapi.testclient import TestClient

    from ..web.app import create_app

    timed = Timed(create_app(store, cache_size=0))
    out: dict[str, Any] = {}
    with TestClient(timed, raise_server_exceptions=False) as client:
        for kind in ("home", "paper", "author"):  # templates compiled, lazy imports done: not part of any figure
            if urls.get(kind):
                client.get(urls[kind][-1])
        for kind, paths in urls.items():
            if not paths:
                continue
            timed.times.clear()
            statuses = []
            for i in range(per_type):
                statuses.append(client.get(paths[i % len(paths)]).status_code)
            times = list(timed.times)
            out[kind] = {
                "n": len(times),
                "p50": round(_percentile(times, 50), 2),
                "p99": round(_percentile(times, 99), 2),
                "mean": round(statistics.fmean(times), 2),
                "errors": sum(1 for s in statuses if s >= 500),
            }
    return out


WRK_SCRIPT = """
local paths = {}
for line in io.lines(os.getenv("PA_URLS")) do paths[#paths + 1] = line end
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1])
end
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) bad = {} end
function response(status, headers, body)
  if status >= 400 then bad[status] = (bad[status] or 0) + 1 end
end
function done(summary, latency, requests)
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("bad")) do io.write(string.format("status %d: %d\n", code, n)) end
  end
end
"""


def wait_ready(port: int, proc: subprocess.Popen, timeout: float = 60) -> None:
    import httpx

    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with code {proc.returncode}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError("the server did not start in time")


def _warm(port: int, urls: list[str], rounds: int) -> float:
    """Request every distinct URL ``rounds`` times (8 at a time) so each worker's response cache holds it."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx

    started = time.perf_counter()
    distinct = sorted(set(urls))
    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as client, ThreadPoolExecutor(8) as pool:
        for _ in range(rounds):
            list(pool.map(lambda path: client.get(path).status_code, distinct))
    return round(time.perf_counter() - started, 1)


def parse_wrk(text: str) -> dict[str, Any]:
    import re

    def ms(value: str, unit: str) -> float:
        return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]

    figures: dict[str, Any] = {"tool": "wrk"}
    match = re.search(r"Requests/sec:\s+([\d.]+)", text)
    figures["requests_per_s"] = round(float(match.group(1)), 1) if match else 0.0
    match = re.search(r"(\d+) requests in", text)
    figures["requests"] = int(match.group(1)) if match else 0
    for pct in ("50", "90", "99"):
        found = re.search(rf"\s{pct}(?:\.000)?%\s+([\d.]+)(us|ms|s|m)\b", text)
        if found:
            figures[f"p{pct}_ms"] = round(ms(found.group(1), found.group(2)), 2)
    errors = 0
    found = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors += int(found.group(1)) if found else 0
    found = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    errors += sum(int(g) for g in found.groups()) if found else 0
    figures["errors"] = errors
    statuses: dict[str, int] = {}
    for code, n in re.findall(r"status (\d+): (\d+)", text):
        statuses[code] = statuses.get(code, 0) + int(n)
    if statuses:
        figures["error_statuses"] = statuses
    if found and sum(int(g) for g in found.groups()):
        figures["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"), map(int, found.groups()),
                                            strict=True))
    return figures


def drive_load(port: int, paths: list[str], *, script: str, tool: str, connections: int, duration: float,
               max_requests: int, wrk_args: tuple[str, ...] = ()) -> dict[str, Any]:
    """Replay ``paths`` against 127.0.0.1:``port`` with wrk (``script`` reads them from $PA_URLS) or with the
    Python load generator in a second process; returns wrk's or the generator's figures (requests/s, latency)."""
    import orjson

    with tempfile.TemporaryDirectory() as tmp:
        url_file = Path(tmp) / "urls.txt"
        url_file.write_text("\n".join(paths) + "\n")
        if tool == "wrk":
            lua = Path(tmp) / "paths.lua"
            lua.write_text(script)
            run = subprocess.run(
                ["wrk", "-t", str(min(2, connections)), "-c", str(connections), "-d", f"{max(1, int(duration))}s",
                 "--latency", *wrk_args, "-s", str(lua), f"http://127.0.0.1:{port}"],
                env={**os.environ, "PA_URLS": str(url_file)}, capture_output=True, text=True, timeout=duration + 60,
            )
            return parse_wrk(run.stdout)
        run = subprocess.run(
            [sys.executable, "-m", "paperatlas.bench.web", f"http://127.0.0.1:{port}", str(url_file),
             str(connections), str(duration), str(max_requests)],
            capture_output=True, text=True, timeout=duration + 120,
        )
        if run.returncode != 0:
            raise RuntimeError(run.stderr.strip().splitlines()[-1] if run.stderr.strip() else "loadgen failed")
        return orjson.loads(run.stdout)


def load_run(data_dir: Path, urls: list[str], *, connections: int, duration: float, max_requests: int,
             workers: int, tool: str, cache: bool = True) -> dict[str, Any]:
    from ..web.serve import free_port, server_argv

    port = free_port()
    env = {**os.environ, "PAPERATLAS_DATA_DIR": str(data_dir), "PAPERATLAS_QUIET": "1",
           "PAPERATLAS_WEB_CACHE": "4096" if cache else "0"}
    env.pop("PAPERATLAS_DATABASE_URL", None)
    server = subprocess.Popen(
        server_argv("127.0.0.1", port, workers),
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_ready(port, server)
        warm_s = _warm(port, urls, rounds=4 * workers if cache else 1)
        figures = drive_load(port, urls, script=WRK_SCRIPT, tool="wrk" if tool == "wrk" and shutil.which("wrk")
                             else "python", connections=connections, duration=duration, max_requests=max_requests)
    finally:
        server.terminate()
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
    figures.update(connections=connections, duration_s=duration, warmup_s=warm_s, server_workers=workers,
                   distinct_urls=len(set(urls)),
                   response_cache=f"on (per worker); warm-up requested each URL {4 * workers} times first" if cache
                   else "off: every request renders (the warm-up only warmed SQLite's and the OS's caches)")
    return figures


@click.command()
@click.option("--papers", "n_papers", default=10_000, show_default=True, type=click.IntRange(min=50),
              help="Papers in the generated store (the target is stated at 1,000,000).")
@click.option("--samples", default=200, show_default=True, type=click.IntRange(min=5),
              help="Requests per page type for the server-side render times.")
@click.option("--connections", default=32, show_default=True, type=click.IntRange(1, 1024))
@click.option("--duration", default=20.0, show_default=True, type=click.FloatRange(1, 600),
              help="Seconds of load.")
@click.option("--requests", "max_requests", default=100_000, show_default=True, type=click.IntRange(min=1),
              help="At most this many requests in the load run (Python load generator).")
@click.option("--workers", default=2, show_default=True, type=click.IntRange(1, 64), help="Server processes.")
@click.option("--tool", type=click.Choice(["wrk", "python"]), default="wrk", show_default=True,
              help="Load generator (falls back to python when wrk is not installed).")
@click.option("--store-dir", type=click.Path(file_okay=False), default=None,
              help="Where the generated store lives [default: <data dir>/bench-web-N]; reused when it matches.")
@click.option("--shared", type=click.Path(file_okay=False, exists=True), default=None,
              help="The shared real-data folder [default: ../shared/data or PAPERATLAS_SHARED_DATA].")
@click.option("--no-load", is_flag=True, help="Only the server-side render times.")
@click.option("--cache/--no-cache", default=True, show_default=True,
              help="The server's rendered-response cache during the load run.")
@click.option("--mix", is_flag=True,
              help="Replay a realistic workload on the store of --data-dir (the demo store, say): Zipf over "
                   "--distinct URLs of every kind, a cold server per run, 1 and 2 workers x 32 and 64 "
                   "connections unless --workers / --connections name one; reports peak PSS per worker.")
@click.option("--distinct", default=12_000, show_default=True, type=click.IntRange(min=100),
              help="--mix: distinct URLs drawn from the store (where it has that many).")
@json_option
@pass_app
@click.pass_context
def bench_web(ctx: click.Context, app: AppContext, n_papers: int, samples: int, connections: int, duration: float,
              max_requests: int, workers: int, tool: str, store_dir: str | None, shared: str | None, no_load: bool,
              cache: bool, mix: bool, distinct: int, as_json: bool) -> None:
    """Server-side render time p50/p99 per page type, and requests/s, p99 and errors under load."""
    if mix:
        from click.core import ParameterSource

        given = {name: ctx.get_parameter_source(name) == ParameterSource.COMMANDLINE
                 for name in ("connections", "workers")}
        _bench_mix(app, distinct=distinct, duration=duration, tool=tool, as_json=as_json,
                   connection_counts=[connections] if given["connections"] else [32, 64],
                   worker_counts=[workers] if given["workers"] else [1, 2])
        return
    shared_dir = _shared_dir(shared)
    if not (shared_dir / "arxiv" / "atom-api").is_dir():
        fail(f"real data not found at {shared_dir} (pass --shared or set PAPERATLAS_SHARED_DATA)")
    folder = Path(store_dir) if store_dir else app.data_dir / f"bench-web-{n_papers}"
    store, build = build_store(folder, n_papers, shared_dir, app.show_progress)
    try:
        rng = random.Random(11)
        urls = sample_urls(store, max(samples, 50), rng)
        render = render_times(store, urls, samples)
    finally:
        store.close()
    figures: dict[str, Any] = {
        "papers": n_papers,
        "data": "generated from real arXiv Atom records in shared/data (recombined titles, abstracts, names, "
                "affiliations, categories; generated dates, coauthors, citations), inserted with executemany",
        **build,
        "render_ms": render,
    }
    if not no_load:
        # the mix: 40% paper pages, 30% author pages, then name clusters, the home feed and the paper API
        mix = urls["paper"][:400] + urls["author"][:300] + urls["name"][:100] + urls["home"] * 20 + \
            urls["api_paper"][:100]
        rng.shuffle(mix)
        try:
            figures["load"] = load_run(folder, mix, connections=connections, duration=duration,
                                       max_requests=max_requests, workers=workers, tool=tool, cache=cache)
        except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
            fail(f"load run failed: {exc}")
    worst_p50 = max(render.get(k, {}).get("p50", 0.0) for k in ("paper", "author"))
    ratios = {"page_p50_vs_15ms": round(worst_p50 / TARGETS["page_p50_ms"], 3)}
    if "load" in figures:
        load = figures["load"]
        ratios["requests_per_s_vs_500"] = round(load.get("requests_per_s", 0) / TARGETS["requests_per_s"], 3)
        ratios["p99_vs_100ms"] = round(load.get("p99_ms", 0) / TARGETS["load_p99_ms"], 3)
        ratios["errors"] = load.get("errors", 0)
    figures["targets"] = {"at_papers": 1_000_000, **TARGETS}
    figures["vs_target"] = ratios
    figures["peak_rss_mb"] = round(peak_rss_mb(), 1)
    figures["machine"] = machine()
    emit(f"bench web ({n_papers:,} papers)", figures, as_json)


def _bench_mix(app: AppContext, *, distinct: int, duration: float, tool: str, as_json: bool,
               connection_counts: list[int], worker_counts: list[int]) -> None:
    from .web_mix import matrix, prepare_mix

    store = app.store
    papers = store.db.scalar("SELECT COUNT(*) FROM papers") or 0
    if papers == 0:
        fail(f"the store at {app.data_dir} has no papers: build one first (paperatlas demo --no-serve)")
    plan = prepare_mix(store, distinct=distinct, tool=tool)
    app.close()  # the servers open the store themselves
    figures: dict[str, Any] = {"store": str(store.db.url), "papers": papers}
    try:
        figures.update(matrix(app.data_dir, app.database, plan, connection_counts=connection_counts,
                              worker_counts=worker_counts, duration=duration))
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        fail(f"load run failed: {exc}")
    figures["machine"] = machine()
    emit("bench web --mix (cold cache, Zipf over the store's URLs)", figures, as_json)


async def _loadgen(base: str, paths: list[str], connections: int, duration: float, max_requests: int) -> dict:
    """Keep ``connections`` requests in flight until ``duration`` seconds or ``max_requests`` requests."""
    import asyncio

    import httpx

    latencies: list[float] = []
    errors = 0
    issued = 0
    stop_at = time.perf_counter() + duration
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=30) as client:

        async def worker() -> None:
            nonlocal errors, issued
            while issued < max_requests and time.perf_counter() < stop_at:
                path = paths[issued % len(paths)]
                issued += 1
                start = time.perf_counter()
                try:
                    response = await client.get(path)
                    if response.status_code >= 400:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append((time.perf_counter() - start) * 1000)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - began
    return {
        "tool": "python httpx (separate process)",
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(latencies, 50), 2),
        "p90_ms": round(_percentile(latencies, 90), 2),
        "p99_ms": round(_percentile(latencies, 99), 2),
        "errors": errors,
    }


if __name__ == "__main__":  # the load generator's own process: base url-file connections duration max-requests
    import asyncio

    import orjson

    base_url, url_path, conns, secs, most = sys.argv[1:6]
    lines = [line for line in Path(url_path).read_text().splitlines() if line]
    result = asyncio.run(_loadgen(base_url, lines, int(conns), float(secs), int(most)))
    sys.stdout.write(orjson.dumps(result).decode() + "\n")
