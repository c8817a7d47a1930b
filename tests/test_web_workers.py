"""The supervisor of several workers (``paperatlas serve --workers N``, :mod:`paperatlas.web.workers`): it hands
each new connection to the next worker in turn, listens only once every worker is ready, replaces a worker that
dies, and stops its workers when it is stopped."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paperatlas.bench.web import wait_ready
from paperatlas.store import STORE_FILENAME
from paperatlas.web.serve import free_port, server_argv

REPO = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.slow


def _environment(data_dir: Path) -> dict[str, str]:
    env = {**os.environ, "PAPERATLAS_DATA_DIR": str(data_dir), "PAPERATLAS_QUIET": "1",
           "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    env.pop("PAPERATLAS_DATABASE_URL", None)
    return env


def _workers(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as children:
        return [int(child) for child in children.read().split()]


def _connections_held(pid: int, port: int) -> int:
    """Established TCP connections to ``port`` whose server end process ``pid`` holds."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as rows:
            for row in list(rows)[1:]:
                fields = row.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "01":  # 01: ESTABLISHED
                    inodes.add(fields[9])
    held = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except FileNotFoundError:
            continue
        held += target.startswith("socket:[") and target[8:-1] in inodes
    return held


@pytest.fixture
def two_workers(atom_papers_store) -> Iterator[tuple[subprocess.Popen, int]]:
    data_dir = atom_papers_store.data_dir
    atom_papers_store.close()
    port = free_port()
    server = subprocess.Popen(server_argv("127.0.0.1", port, 2), env=_environment(data_dir),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_ready(port, server, timeout=180)
        yield server, port
    finally:
        if server.poll() is None:
            server.terminate()
            server.wait(timeout=60)


def _get(connection: http.client.HTTPConnection, path: str) -> int:
    connection.request("GET", path)
    response = connection.getresponse()
    response.read()
    return response.status


def test_keep_alive_connections_are_split_evenly_between_the_workers(two_workers):
    server, port = two_workers
    connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(8)]
    try:
        for connection in connections:  # one after another, as a browser or a load generator opens them
            assert _get(connection, "/healthz") == 200
        workers = _workers(server.pid)
        assert len(workers) == 2
        # the wait_ready probe's connection is closed; every one of these 8 is held by a worker, 4 each
        deadline = time.monotonic() + 10
        while sorted(_connections_held(pid, port) for pid in workers) != [4, 4] and time.monotonic() < deadline:
            time.sleep(0.1)
        assert sorted(_connections_held(pid, port) for pid in workers) == [4, 4]
        assert _connections_held(server.pid, port) == 0  # the parent keeps no connection it handed on
        for connection in connections:  # and each connection stays served, request after request
            assert _get(connection, "/api/trending") == 200
    finally:
        for connection in connections:
            connection.close()


def test_a_worker_that_dies_is_replaced_and_new_connections_go_to_the_live_one(two_workers):
    server, port = two_workers
    first, second = _workers(server.pid)
    os.kill(first, signal.SIGKILL)
    # (a connection handed over in the instant the worker dies, before the kernel has closed its end of the
    # channel, is lost with it, as the requests it was serving are)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{first}").exists() and time.monotonic() < deadline:  # the supervisor reaps it
        time.sleep(0.01)
    for _ in range(6):  # new connections meanwhile all go to the live worker
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            assert _get(connection, "/healthz") == 200
        finally:
            connection.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        now = _workers(server.pid)
        if len(now) == 2 and first not in now:
            break
        time.sleep(0.2)
    now = _workers(server.pid)
    assert len(now) == 2 and first not in now and second in now
    assert server.poll() is None


def test_the_server_stops_its_workers_when_it_is_stopped(two_workers):
    server, _port = two_workers
    workers = _workers(server.pid)
    server.send_signal(signal.SIGTERM)
    assert server.wait(timeout=60) == 0
    for pid in workers:
        assert not Path(f"/proc/{pid}").exists() or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()


def test_workers_that_cannot_open_the_store_stop_the_server_with_a_message(tmp_path: Path):
    env = {**_environment(tmp_path), "PAPERATLAS_DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}
    run = subprocess.run(server_argv("127.0.0.1", free_port(), 2), env=env, capture_output=True, text=True,
                         timeout=180)
    assert run.returncode == 3  # not a loop of workers started again and again
    assert "Connection refused" in run.stderr and "before it was ready" in run.stderr.splitlines()[-1]


def test_workers_on_a_file_that_is_not_a_store_stop_the_server_too(tmp_path: Path):
    (tmp_path / STORE_FILENAME).write_bytes(b"not a database " * 100)
    run = subprocess.run(server_argv("127.0.0.1", free_port(), 2), env=_environment(tmp_path),
                         capture_output=True, text=True, timeout=180)
    assert run.returncode == 3  # before: both workers said they were ready, and every page was a 500
    assert "file is not a database" in run.stderr and "before it was ready" in run.stderr.splitlines()[-1]


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = subprocess.run(server_argv("127.0.0.1", port, 2), env=_environment(tmp_path),
                             capture_output=True, text=True, timeout=60)
    assert run.returncode == 2
    assert run.stderr.strip().splitlines() == [f"cannot listen on 127.0.0.1:{port}: Address already in use"]


def test_serve_with_two_workers_from_the_command_line(atom_papers_store):
    """`paperatlas serve --workers 2` becomes the supervisor: it says where it serves and answers pages."""
    data_dir = atom_papers_store.data_dir
    atom_papers_store.close()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "paperatlas", "--data-dir", str(data_dir), "serve", "--workers",
                               "2", "--port", str(port), "--log-level", "info"], env=_environment(data_dir),
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_ready(port, server, timeout=180)
        assert len(_workers(server.pid)) == 2
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        assert _get(connection, "/") == 200
        connection.close()
    finally:
        server.terminate()
        _out, err = server.communicate(timeout=60)
    assert server.returncode == 0
    assert f"PaperAtlas on http://127.0.0.1:{port}/" in err and "2 workers ready" in err
