"""What makes serving cheaper under load without changing an answer: the response cache shared by a server's worker
processes, and the templates' fast lookup of dict fields.  (The load figures: ``paperatlas bench web --mix``.)"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import httpx
import jinja2
import pytest

from paperatlas.web.app import make_templates
from paperatlas.web.caching import ResponseCache, SharedResponses, shared_responses_path
from paperatlas.web.serve import free_port, server_argv

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("source", [
    "{{ d.title }}|{{ d.missing is undefined }}|{{ d.keys is callable }}|{{ d['keys'] }}|{{ d.items is callable }}",
    "{% for a in d.authors %}{{ a.name }}{% if a.aid %}({{ a.aid }}){% endif %};{% endfor %}{{ d.authors | length }}",
    "{{ d.get('title') }}|{{ d.nested.inner }}|{{ d.nested.absent | default('none') }}|{{ d.copy is callable }}",
])
def test_the_templates_read_dict_fields_exactly_as_jinja_does(source):
    d = {"title": "T <i>", "keys": "K", "authors": [{"name": "Ann", "aid": "a1"}, {"name": "Bo", "aid": None}],
         "nested": {"inner": 3}}
    plain = jinja2.Environment(autoescape=True).from_string(source).render(d=d)
    ours = make_templates().env.from_string(source).render(d=d)
    assert ours == plain


def test_two_workers_share_what_either_rendered(tmp_path: Path):
    path = tmp_path / "shared.sqlite3"
    one, two = ResponseCache(8, SharedResponses(path, 8)), ResponseCache(8, SharedResponses(path, 8))
    assert two.get('"e1"') is None
    one.put('"e1"', b"<p>page</p>", "text/html")
    assert two.get('"e1"') == (b"<p>page</p>", "text/html")  # read from the file, then kept in its own LRU
    assert ResponseCache(0, SharedResponses(path, 8)).get('"e1"') is None  # a cache turned off stays off


def test_the_shared_file_keeps_the_newest_bodies(tmp_path: Path):
    shared = SharedResponses(tmp_path / "shared.sqlite3", 10)
    for i in range(SharedResponses.PRUNE_EVERY):
        shared.put(f'"e{i}"', b"x" * 10, "text/html")
    kept = {row[0] for row in sqlite3.connect(shared.path).execute("SELECT etag FROM responses")}
    assert kept == {f'"e{i}"' for i in range(SharedResponses.PRUNE_EVERY - 10, SharedResponses.PRUNE_EVERY)}


def test_each_server_gets_its_own_private_file_and_gone_servers_files_are_removed(tmp_path: Path):
    data_dir = tmp_path / "data"
    folder = data_dir / "web-cache"
    folder.mkdir(parents=True, mode=0o777)
    folder.chmod(0o777)
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    stale = folder / f"paperatlas-responses-{int(gone.stdout)}-123.sqlite3"
    stale.write_bytes(b"")
    (folder / f"{stale.name}-wal").write_bytes(b"")
    mine = shared_responses_path(data_dir, os.getpid())
    assert not stale.exists() and not (folder / f"{stale.name}-wal").exists()
    assert mine.parent == folder and f"-{os.getpid()}-" in mine.name
    assert folder.stat().st_mode & 0o777 == 0o700  # no other local user may plant or read a file there
    assert shared_responses_path(data_dir, os.getpid()) == mine  # the same server: the same file
    assert shared_responses_path(tmp_path / "other", os.getpid()).parent == tmp_path / "other" / "web-cache"


@pytest.mark.slow
def test_the_workers_of_one_server_render_each_page_once(atom_papers_store, tmp_path: Path):
    """Two workers (started as `serve --workers 2` starts them); every request on a new connection, so both
    workers answer some (connections are handed out in turn); a page rendered by one is read by the other, never
    rendered again (each write of the shared file takes a new rowid, so more writes than pages would show)."""
    data_dir = atom_papers_store.data_dir
    atom_papers_store.close()
    port = free_port()
    env = {**os.environ, "PAPERATLAS_DATA_DIR": str(data_dir), "PAPERATLAS_QUIET": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("PAPERATLAS_DATABASE_URL", None)
    server = subprocess.Popen(server_argv("127.0.0.1", port, 2),
                              env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        from paperatlas.bench.web import wait_ready

        wait_ready(port, server, timeout=120)
        pages = ["/", "/search?q=learning", "/c/cs.LG", "/api/trending", "/feed/trending.atom"]
        bodies: dict[str, set[bytes]] = {page: set() for page in pages}
        for _ in range(12):
            for page in pages:
                with httpx.Client(base_url=f"http://127.0.0.1:{port}") as client:  # a new connection each time
                    response = client.get(page)
                assert response.status_code == 200, page
                bodies[page].add(response.content)
        assert all(len(found) == 1 for found in bodies.values())  # every worker answered the same bytes
        [path] = (data_dir / "web-cache").glob("paperatlas-responses-*.sqlite3")
        with sqlite3.connect(path) as db:
            rows, writes = db.execute("SELECT COUNT(*), MAX(rowid) FROM responses").fetchone()
        assert rows == writes == len(pages)
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_a_serving_process_freezes_its_warmed_up_heap_and_collects_young_objects_less_often():
    # in a process of its own: freezing this test run's heap would hide the other tests' garbage from the collector
    script = ("import gc; from paperatlas.web.app import GC_YOUNG, settle_heap; cycle = [[]]; cycle[0].append(cycle); "
              "settle_heap(); assert gc.get_freeze_count() > 1000, gc.get_freeze_count(); "
              "assert gc.get_threshold()[0] == GC_YOUNG > 700; garbage = [[]]; garbage[0].append(garbage); "
              "del garbage; assert gc.collect() >= 2, 'objects made after the freeze are collected as before'")
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert run.returncode == 0, run.stderr
