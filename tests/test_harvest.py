"""The OAI-PMH harvester against a local server that replays real arXiv pages chained by their real tokens.

The server serves pages 101..103 of the March 2016 ``cs`` harvest (2,538 records; page 103 ends the list with
an empty token), and can be told to answer 503 + Retry-After or to drop the connection mid-page once.
"""

from __future__ import annotations

import gzip
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest

from paperatlas.harvest import HarvestError, HarvestState, OaiHarvester
from paperatlas.harvest.oai import parse_page, retry_after_seconds
from paperatlas.sources.arxiv_oai import ArxivOaiReader
from paperatlas.sources.base import ErrorSink

PAGES = ("page101.xml.gz", "page102.xml.gz", "page103.xml.gz")
_TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]*)</resumptionToken>")


class Replay:
    """Real pages keyed by the token that asks for them; faults to inject, each used once."""

    def __init__(self, folder: Path) -> None:
        self.bodies: list[bytes] = [gzip.decompress((folder / name).read_bytes()) for name in PAGES]
        self.by_token: dict[str | None, int] = {None: 0}
        for index, body in enumerate(self.bodies[:-1]):
            token = _TOKEN.search(body).group(1).decode()  # type: ignore[union-attr]
            self.by_token[token] = index + 1
        self.faults: dict[int, list[str]] = {}  # page index -> ["503", "drop", ...]
        self.requests: list[dict[str, list[str]]] = []


def _handler(replay: Replay) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # keep test output clean
            pass

        def do_GET(self) -> None:
            query = parse_qs(urlparse(self.path).query)
            replay.requests.append(query)
            token = query.get("resumptionToken", [None])[0]
            if token is None and (query.get("metadataPrefix") != ["arXiv"] or query.get("verb") != ["ListRecords"]):
                self.send_response(400)
                self.end_headers()
                return
            index = replay.by_token.get(token)
            if index is None:
                body = (b'<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
                        b'<error code="badResumptionToken">unknown token</error></OAI-PMH>')
                self._send(200, body)
                return
            faults = replay.faults.get(index, [])
            fault = faults.pop(0) if faults else None
            if fault == "503":
                self.send_response(503)
                self.send_header("Retry-After", "7")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = replay.bodies[index]
            if fault == "drop":  # promise the whole page, send half, hang up
                self.send_response(200)
                self.send_header("Content-Type", "text/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
                return
            self._send(200, body)

        def _send(self, status: int, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", "text/xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@pytest.fixture
def oai(shared: Path) -> Iterator[tuple[str, Replay]]:
    replay = Replay(shared / "arxiv" / "oai-pmh-cs-2016")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(replay))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/oai", replay
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _ids(path: Path) -> list[str]:
    """The arXiv ids in a saved page, read by the real OAI-PMH reader."""
    with gzip.open(path, "rb") as handle:
        return [r.ids["arxiv"] for r in ArxivOaiReader().read(handle, str(path), ErrorSink(echo=False))]


def _harvester(endpoint: str, tmp: Path, on_page, slept: list[float], **kw) -> OaiHarvester:
    return OaiHarvester(endpoint, state_path=tmp / "state.json", pages_dir=tmp / "pages", on_page=on_page,
                        set_spec="cs", from_date="2016-01-01", delay=0.5, sleep=slept.append, **kw)


def test_follows_tokens_honours_retry_after_and_survives_a_dropped_connection(oai, tmp_path: Path) -> None:
    endpoint, replay = oai
    replay.faults = {1: ["503"], 2: ["drop"]}
    seen: list[str] = []
    slept: list[float] = []
    summary = _harvester(endpoint, tmp_path, lambda path, page: seen.extend(_ids(path)), slept).run()

    assert summary.done and summary.pages == 3
    assert summary.records == 2538 == len(seen) == len(set(seen))
    assert seen[0] == "cs/0610004" and seen[-1] == "quant-ph/9912100"  # first of page 101, last of page 103
    assert 7.0 in slept, "the Retry-After of the 503 was not honoured"
    assert slept.count(0.5) >= 2, "no polite delay between pages"
    assert summary.retries == 2
    # the first request carries the harvest's arguments, later ones only the token of the page before
    assert replay.requests[0]["set"] == ["cs"] and replay.requests[0]["from"] == ["2016-01-01"]
    assert replay.requests[-1] == {"verb": ["ListRecords"], "resumptionToken": ["1122234|102001"]}
    state = HarvestState.load(tmp_path / "state.json")
    assert state is not None and state.done and state.records == 2538 and state.complete_list_size == 102538


@pytest.mark.slow
def test_crash_then_resume_fetches_each_page_once_more_at_most(oai, tmp_path: Path) -> None:
    endpoint, replay = oai
    uninterrupted: list[str] = []
    _harvester(endpoint, tmp_path / "a", lambda p, _: uninterrupted.extend(_ids(p)), []).run()

    seen: list[str] = []

    def crash_on_second_page(path: Path, page) -> None:
        if path.name.startswith("page00002"):
            raise RuntimeError("killed while ingesting page 2")
        seen.extend(_ids(path))

    with pytest.raises(RuntimeError):
        _harvester(endpoint, tmp_path / "b", crash_on_second_page, []).run()
    state = HarvestState.load(tmp_path / "b" / "state.json")
    assert state is not None and state.pages == 1 and state.token == "1122234|101001" and not state.done

    before = len(replay.requests)
    summary = _harvester(endpoint, tmp_path / "b", lambda p, _: seen.extend(_ids(p)), []).run()
    assert summary.resumed and summary.pages == 2
    assert replay.requests[before]["resumptionToken"] == ["1122234|101001"]  # not the first page again
    assert seen == uninterrupted


def rows(store) -> dict[str, list[tuple]]:
    return {
        "papers": store.db.query_tuples("SELECT pid, title, abstract FROM papers ORDER BY pid"),
        "paper_ids": store.db.query_tuples("SELECT scheme, value FROM paper_ids ORDER BY scheme, value"),
        "authorships": store.db.query_tuples("SELECT position, name FROM authorships ORDER BY paper_id, position"),
    }


@pytest.mark.slow
def test_crash_then_resume_ends_with_the_store_of_an_uninterrupted_run(oai, tmp_path: Path) -> None:
    ingest = pytest.importorskip("paperatlas.ingest")
    from paperatlas.store import open_store

    endpoint, _ = oai

    whole = open_store(tmp_path / "whole")
    _harvester(endpoint, tmp_path / "h1", lambda p, _: ingest.ingest_paths(whole, [p], show_progress=False), []).run()

    resumed = open_store(tmp_path / "resumed")
    calls = {"n": 0}

    def crash_after_ingesting_page_two(path: Path, page) -> None:
        ingest.ingest_paths(resumed, [path], show_progress=False)
        calls["n"] += 1
        if calls["n"] == 2:  # ingested, but killed before the harvester saved its place
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        _harvester(endpoint, tmp_path / "h2", crash_after_ingesting_page_two, []).run()
    _harvester(endpoint, tmp_path / "h2", lambda p, _: ingest.ingest_paths(resumed, [p], show_progress=False),
               []).run()
    try:
        assert rows(resumed)["papers"] and len(rows(resumed)["paper_ids"]) >= 2538
        assert rows(resumed) == rows(whole)
    finally:
        whole.close()
        resumed.close()


def test_gives_up_with_a_clear_error_when_the_server_keeps_failing(oai, tmp_path: Path) -> None:
    endpoint, replay = oai
    replay.faults = {0: ["503"] * 10}
    with pytest.raises(HarvestError, match="giving up"):
        _harvester(endpoint, tmp_path, lambda p, _: None, [], max_retries=3).run()
    assert HarvestState.load(tmp_path / "state.json") is None  # nothing ingested, nothing claimed


def test_oai_errors_and_retry_after_forms() -> None:
    with pytest.raises(HarvestError, match="badResumptionToken"):
        parse_page(b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="badResumptionToken"/>'
                   b"</OAI-PMH>")
    empty = parse_page(b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><error code="noRecordsMatch"/>'
                       b"</OAI-PMH>")
    assert empty.records == 0 and empty.token is None
    with pytest.raises(ValueError):
        parse_page(b'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><ListRecords><record>')
    assert retry_after_seconds("120", 5) == 120
    assert retry_after_seconds("soon", 5) == 5
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:00 GMT", 5) == 0


def test_harvest_command_rejects_bad_input(cli) -> None:
    result = cli("harvest", "arxiv", "--from", "2016-13-45x")
    assert result.exit_code != 0 and "YYYY-MM-DD" in result.output
    result = cli("harvest", "arxiv", "--from", "2016-02-01", "--until", "2016-01-01")
    assert result.exit_code == 2 and "before" in result.output


def test_harvest_command_ingests_every_page_and_resumes(oai, cli, data_dir: Path) -> None:
    pytest.importorskip("paperatlas.ingest")
    from paperatlas.store import open_store

    endpoint, replay = oai
    args = ("harvest", "arxiv", "--set", "cs", "--from", "2016-01-01", "--endpoint", endpoint, "--delay", "0")
    result = cli(*args, "--max-pages", "1")
    assert result.exit_code == 0, result.output
    assert "paused" in result.output and "1 pages, 1,000 records" in result.output
    result = cli(*args)
    assert result.exit_code == 0, result.output
    assert "complete" in result.output and "2 pages, 1,538 records this run (2,538 in all)" in result.output
    assert replay.requests[1]["resumptionToken"] == ["1122234|101001"]
    store = open_store(data_dir)
    try:
        assert store.db.scalar("SELECT COUNT(*) FROM paper_ids WHERE scheme = 'arxiv'") == 2538
    finally:
        store.close()
    result = cli(*args)  # a finished harvest asks for nothing more
    assert result.exit_code == 0 and len(replay.requests) == 3


def test_a_corrupt_state_file_is_one_clear_line(cli, data_dir: Path) -> None:
    pytest.importorskip("paperatlas.ingest")
    state = data_dir / "harvest" / "arxiv" / "cs-2016-01-01-now.state.json"
    state.parent.mkdir(parents=True)
    state.write_text("{not json", encoding="utf-8")
    result = cli("harvest", "arxiv", "--from", "2016-01-01", "--endpoint", "http://127.0.0.1:9/oai")
    assert result.exit_code == 2 and "unreadable harvest state" in result.output and "--restart" in result.output


def test_a_repeated_token_stops_the_harvest(oai, tmp_path: Path) -> None:
    endpoint, replay = oai
    replay.by_token["1122234|101001"] = 0  # the server hands page 101 (and its token) back again
    with pytest.raises(HarvestError, match="loop forever"):
        _harvester(endpoint, tmp_path, lambda p, _: None, []).run()


@pytest.mark.slow
def test_kill_9_mid_harvest_then_resume(oai, tmp_path: Path) -> None:
    """A real ``kill -9`` of ``paperatlas harvest arxiv`` after its first page; the re-run finishes the job."""
    pytest.importorskip("paperatlas.ingest")
    from paperatlas.store import open_store

    endpoint, _ = oai

    def command(data: Path, delay: str) -> list[str]:
        return [sys.executable, "-c", "import sys; from paperatlas.cli import run; sys.argv[0] = 'paperatlas'; run()",
                "--quiet", "--data-dir", str(data), "harvest", "arxiv", "--from", "2016-01-01", "--endpoint",
                endpoint, "--delay", delay]

    subprocess.run(command(tmp_path / "whole", "0"), check=True, capture_output=True, timeout=120)
    killed = tmp_path / "killed"
    state = killed / "harvest" / "arxiv" / "cs-2016-01-01-now.state.json"
    process = subprocess.Popen(command(killed, "2"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and process.poll() is None:
            saved = HarvestState.load(state) if state.exists() else None
            if saved and saved.pages >= 1:
                break
            time.sleep(0.05)
        assert process.poll() is None, "the harvest ended before it could be killed"
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
    saved = HarvestState.load(state)
    assert saved is not None and not saved.done and saved.pages >= 1
    subprocess.run(command(killed, "0"), check=True, capture_output=True, timeout=120)
    whole, resumed = open_store(tmp_path / "whole"), open_store(killed)
    try:
        assert rows(resumed) == rows(whole) and len(rows(whole)["papers"]) > 2000
    finally:
        whole.close()
        resumed.close()
