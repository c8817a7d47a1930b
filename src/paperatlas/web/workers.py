"""Several worker processes behind one listening socket, each new connection handed to the next worker in turn.

Why not ``uvicorn --workers``: there every worker waits on the one listening socket and the kernel gives each new
connection to whichever worker wakes first.  Clients keep their connections alive, so a split made in the first
milliseconds holds for as long as they stay: under ``bench web --mix`` (32 keep-alive connections, 2 workers) the
workers held 20/12, 22/10 and 21/11 of them, and the busier worker's queue was the site's p99.  Here the parent
process accepts every connection and passes it on (``SCM_RIGHTS`` over a Unix socket pair, one per worker) to the
workers in turn, so two workers hold 16 and 16.  The parent listens only once every worker has warmed up (model,
indexes, templates), so no connection waits on a worker that is still starting; it starts a worker again when
one dies.

Run as ``python -m paperatlas.web.workers --workers N [--host H] [--port P]`` (what ``paperatlas serve --workers N``
becomes); each worker is ``python -m paperatlas.web.workers --channel-fd FD``, which builds its app from the
settings in the environment (:func:`paperatlas.web.serve.app_from_env`) and serves with uvicorn.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import selectors
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass

log = logging.getLogger("paperatlas.web.workers")

READY = b"ready"
BACKLOG = 2048
STOP_GRACE_S = 30.0  # how long a worker may take to finish its requests after SIGTERM


@dataclass
class Worker:
    """One worker process and the parent's end of its channel."""

    process: subprocess.Popen
    channel: socket.socket
    ready: bool = False
    handed: int = 0  # connections handed to it (for the log on exit)


def listening_socket(host: str, port: int) -> socket.socket:
    """Bound, not yet listening: connections are refused until every worker is ready."""
    family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                              flags=socket.AI_PASSIVE)[0]
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(address)
    return sock


class Supervisor:
    """The parent: starts ``count`` workers, then accepts connections and hands them out in turn."""

    def __init__(self, listener: socket.socket, count: int, worker_args: list[str]) -> None:
        self.listener = listener
        self.count = count
        self.worker_args = worker_args
        self.workers: list[Worker] = []
        self.turn = 0
        self.stopping = False
        self.failed = False  # a worker died before it was ready: the store or settings are broken, do not loop
        self.selector = selectors.DefaultSelector()
        self._wake_r, self._wake_w = socket.socketpair()

    def start_worker(self) -> Worker:
        parent_end, child_end = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with child_end:
            process = subprocess.Popen(
                [sys.executable, "-m", "paperatlas.web.workers", "--channel-fd", str(child_end.fileno()),
                 *self.worker_args],
                pass_fds=[child_end.fileno()],
            )
        # never wait on a worker: one that has stopped reading (stuck, exiting) is skipped, not waited for
        parent_end.setblocking(False)
        worker = Worker(process, parent_end)
        self.workers.append(worker)
        self.selector.register(parent_end, selectors.EVENT_READ, worker)
        return worker

    def run(self) -> int:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, self._on_signal)
        self._wake_r.setblocking(False)
        self._wake_w.setblocking(False)
        signal.set_wakeup_fd(self._wake_w.fileno(), warn_on_full_buffer=False)
        self.selector.register(self._wake_r, selectors.EVENT_READ, None)
        started = time.monotonic()
        for _ in range(self.count):
            self.start_worker()
        try:
            if not self._wait_until_ready():  # stopped while starting: by a signal, or a worker that died
                return 3 if self.failed else 0
            self.listener.listen(BACKLOG)
            self.listener.setblocking(False)
            self.selector.register(self.listener, selectors.EVENT_READ, self.listener)
            log.info("%d workers ready in %.1f s; accepting connections", self.count, time.monotonic() - started)
            self._serve()
            return 3 if self.failed else 0
        finally:
            self._stop_workers()

    def _on_signal(self, signum: int, _frame: object) -> None:
        self.stopping = True

    def _wait_until_ready(self) -> bool:
        while not self.stopping and not all(worker.ready for worker in self.workers):
            for key, _ in self.selector.select(timeout=1.0):
                if key.data is None:
                    self._drain_wakeups()
                elif not self._read_channel(key.data):
                    log.error("a worker exited with code %s before it was ready; stopping",
                              key.data.process.wait())
                    self.failed = True
                    return False
        return not self.stopping

    def _serve(self) -> None:
        while not self.stopping:
            for key, _ in self.selector.select():
                if key.data is self.listener:
                    self._accept_all()
                elif isinstance(key.data, Worker) and not self._read_channel(key.data):
                    self._replace(key.data)
                elif key.data is None:
                    self._drain_wakeups()

    def _read_channel(self, worker: Worker) -> bool:
        """Take a worker's message; False when its channel closed (the worker exited)."""
        try:
            message = worker.channel.recv(64)
        except BlockingIOError:
            return True
        except ConnectionError:
            message = b""
        if message == READY:
            worker.ready = True
        return bool(message)

    def _replace(self, worker: Worker) -> None:
        self.selector.unregister(worker.channel)
        worker.channel.close()
        self.workers.remove(worker)
        code = worker.process.wait()
        if not worker.ready:
            log.error("a new worker exited with code %s before it was ready; stopping", code)
            self.failed = self.stopping = True
        elif not self.stopping:
            log.error("worker %d exited with code %s after %d connections; starting another",
                      worker.process.pid, code, worker.handed)
            self.start_worker()

    def _drain_wakeups(self) -> None:
        try:
            while self._wake_r.recv(512):
                pass
        except BlockingIOError:
            pass

    def _accept_all(self) -> None:
        while True:
            try:
                connection, _address = self.listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as error:  # out of file descriptors, a connection reset before accept: keep serving
                log.warning("accept failed: %s", error)
                return
            with connection:
                connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self._hand_over(connection)

    def _hand_over(self, connection: socket.socket) -> None:
        """To the next ready worker in turn; a worker that cannot take it now (exiting, or its channel full
        because it has stopped reading) is skipped."""
        ready = [worker for worker in self.workers if worker.ready]
        for offset in range(len(ready)):
            worker = ready[(self.turn + offset) % len(ready)]
            try:
                socket.send_fds(worker.channel, [b"c"], [connection.fileno()])
            except OSError:
                continue
            worker.handed += 1
            self.turn = (self.turn + offset + 1) % len(ready)
            return
        log.warning("no worker could take a connection; it is closed")

    def _stop_workers(self) -> None:
        signal.set_wakeup_fd(-1)
        self.listener.close()
        for worker in self.workers:
            if worker.process.poll() is None:
                worker.process.terminate()
        deadline = time.monotonic() + STOP_GRACE_S
        for worker in self.workers:
            try:
                worker.process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                worker.process.kill()
                worker.process.wait()
            worker.channel.close()


def serve_worker(channel: socket.socket, *, log_level: str, access_log: bool) -> None:
    """A worker: its app from the environment's settings, served by uvicorn on the connections the parent hands
    it.  It has no listening socket of its own."""
    import uvicorn

    from .serve import UVICORN_OPTIONS, app_from_env

    class HandedConnections(uvicorn.Server):
        async def startup(self, sockets: list[socket.socket] | None = None) -> None:
            await super().startup(sockets=[])  # the lifespan (warm-up) and no listener
            if not self.started:
                return
            loop = asyncio.get_running_loop()
            channel.setblocking(False)
            loop.add_reader(channel.fileno(), self._take, loop)
            channel.send(READY)

        def _take(self, loop: asyncio.AbstractEventLoop) -> None:
            while True:
                try:
                    message, fds, _flags, _address = socket.recv_fds(channel, 16, 16)
                except BlockingIOError:
                    return
                except ConnectionError:
                    message, fds = b"", []
                if not message and not fds:  # the parent is gone: finish what is open and exit
                    loop.remove_reader(channel.fileno())
                    self.should_exit = True
                    return
                for fd in fds:
                    connection = socket.socket(fileno=fd)
                    connection.setblocking(False)
                    loop.create_task(loop.connect_accepted_socket(self._protocol, connection))

        def _protocol(self) -> asyncio.Protocol:
            return self.config.http_protocol_class(  # type: ignore[call-arg]
                config=self.config, server_state=self.server_state, app_state=self.lifespan.state,
                _loop=asyncio.get_running_loop())

    site = app_from_env(server_pid=os.getppid())
    config = uvicorn.Config(site, log_level=log_level, access_log=access_log, **UVICORN_OPTIONS)
    HandedConnections(config).run(sockets=[])


def arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m paperatlas.web.workers",
        description="Serve the site with several worker processes; the parent hands each new connection to the "
                    "next worker in turn. The store comes from PAPERATLAS_DATA_DIR / PAPERATLAS_DATABASE_URL.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port (default 8000)")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
    parser.add_argument("--log-level", default="info",
                        choices=["critical", "error", "warning", "info", "debug"])
    parser.add_argument("--no-access-log", action="store_true", help="no line per request")
    parser.add_argument("--channel-fd", type=int, help=argparse.SUPPRESS)  # set by the parent for a worker
    options = parser.parse_args(argv)
    if options.workers < 1 or not 0 < options.port < 65536:
        parser.error("--workers must be at least 1 and --port within 1-65535")
    return options


def main(argv: list[str] | None = None) -> int:
    options = arguments(argv)
    logging.basicConfig(level=options.log_level.upper(), format="%(levelname)s:     %(message)s")
    if options.channel_fd is not None:
        channel = socket.socket(fileno=options.channel_fd)
        serve_worker(channel, log_level=options.log_level, access_log=not options.no_access_log)
        return 0
    try:
        listener = listening_socket(options.host, options.port)
    except OSError as error:
        print(f"cannot listen on {options.host}:{options.port}: {error.strerror or error}", file=sys.stderr)
        return 2
    worker_args = ["--log-level", options.log_level, *(["--no-access-log"] if options.no_access_log else [])]
    return Supervisor(listener, options.workers, worker_args).run()


if __name__ == "__main__":
    sys.exit(main())
