"""An OAI-PMH ``ListRecords`` harvester that is polite, patient and resumable.

OAI-PMH hands out a list in pages chained by resumption tokens.  arXiv asks harvesters to wait between
requests and answers ``503`` with ``Retry-After`` when they go too fast; connections also drop mid-page.  So
each page is fetched with retries (honouring ``Retry-After``, backing off on dropped connections and on pages
that arrive truncated), saved to disk, handed to ``on_page`` (which ingests it), and only *then* is the next
token written to the state file (atomically).  A crash at any point therefore loses nothing: the next run reads
the state, asks again for the page it had not finished, and re-ingests it, which changes nothing for a page
already ingested because ingest is idempotent.
"""

from __future__ import annotations

import gzip
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import httpx
from lxml import etree

OAI_NS = "{http://www.openarchives.org/OAI/2.0/}"
USER_AGENT = "PaperAtlas-harvester/0.1 (OAI-PMH; polite: honours Retry-After)"


class HarvestError(Exception):
    """The service said no (an OAI error other than noRecordsMatch) or kept failing past the retry budget."""


@dataclass
class HarvestState:
    """What a harvest has done so far; saved after every ingested page so that a re-run resumes there."""

    endpoint: str
    metadata_prefix: str
    set_spec: str | None
    from_date: str | None
    until: str | None
    token: str | None = None  # the resumption token of the next page to ask for (None: the first page)
    pages: int = 0
    records: int = 0
    complete_list_size: int | None = None
    done: bool = False
    updated: str | None = None

    def same_request(self, other: HarvestState) -> bool:
        return (self.endpoint, self.metadata_prefix, self.set_spec, self.from_date, self.until) == (
            other.endpoint, other.metadata_prefix, other.set_spec, other.from_date, other.until)

    @classmethod
    def load(cls, path: Path) -> HarvestState | None:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise HarvestError(f"unreadable harvest state {path}: {exc}") from exc
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def save(self, path: Path) -> None:
        """Write-then-rename, so a crash leaves either the old state or the new one, never half of one."""
        self.updated = datetime.now(UTC).isoformat(timespec="seconds")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(asdict(self), handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)


@dataclass
class HarvestSummary:
    pages: int = 0  # pages fetched and ingested by this run
    records: int = 0
    retries: int = 0
    resumed: bool = False
    done: bool = False
    state: HarvestState | None = None
    results: list[object] = field(default_factory=list)  # what on_page returned for each page


@dataclass
class Page:
    records: int
    token: str | None  # None when the list is complete
    complete_list_size: int | None


def parse_page(body: bytes) -> Page:
    """Count the records and find the resumption token; raises ValueError for a broken or truncated page and
    HarvestError for an OAI error response."""
    try:
        root = etree.fromstring(body, parser=etree.XMLParser(resolve_entities=False, no_network=True,
                                                              huge_tree=True))
    except etree.XMLSyntaxError as exc:
        raise ValueError(f"broken page: {exc}") from exc
    error = root.find(f"{OAI_NS}error")
    if error is not None:
        code = error.get("code") or "error"
        if code == "noRecordsMatch":
            return Page(0, None, 0)
        raise HarvestError(f"OAI-PMH error {code}: {(error.text or '').strip()}")
    listing = root.find(f"{OAI_NS}ListRecords")
    if listing is None:
        raise ValueError("no <ListRecords> in the response")
    records = sum(1 for _ in listing.iterfind(f"{OAI_NS}record"))
    token_element = listing.find(f"{OAI_NS}resumptionToken")
    token = (token_element.text or "").strip() if token_element is not None else ""
    size = token_element.get("completeListSize") if token_element is not None else None
    return Page(records, token or None, int(size) if size and size.isdigit() else None)


def retry_after_seconds(value: str | None, default: float) -> float:
    """``Retry-After`` is seconds or an HTTP date; anything else means the default wait."""
    if not value:
        return default
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return default
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


class OaiHarvester:
    """Harvest ``ListRecords`` from ``endpoint`` into ``pages_dir``, calling ``on_page(path, page)`` for each."""

    def __init__(
        self,
        endpoint: str,
        *,
        state_path: Path,
        pages_dir: Path,
        on_page: Callable[[Path, Page], object],
        metadata_prefix: str = "arXiv",
        set_spec: str | None = None,
        from_date: str | None = None,
        until: str | None = None,
        delay: float = 3.0,
        max_retries: int = 6,
        max_retry_after: float = 600.0,
        timeout: float = 120.0,
        client: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.state_path = Path(state_path)
        self.pages_dir = Path(pages_dir)
        self.on_page = on_page
        self.request = HarvestState(endpoint, metadata_prefix, set_spec, from_date, until)
        self.delay = delay
        self.max_retries = max_retries
        self.max_retry_after = max_retry_after
        self.client = client or httpx.Client(timeout=timeout, headers={"User-Agent": USER_AGENT},
                                             follow_redirects=True)
        self._own_client = client is None
        self.sleep = sleep
        self.log = log or (lambda message: None)

    def _params(self, state: HarvestState) -> dict[str, str]:
        if state.token:
            return {"verb": "ListRecords", "resumptionToken": state.token}
        params = {"verb": "ListRecords", "metadataPrefix": state.metadata_prefix}
        if state.set_spec:
            params["set"] = state.set_spec
        if state.from_date:
            params["from"] = state.from_date
        if state.until:
            params["until"] = state.until
        return params

    def _fetch(self, state: HarvestState, summary: HarvestSummary) -> tuple[bytes, Page]:
        """One page, retried through 503s, dropped connections and truncated bodies."""
        attempt = 0
        while True:
            wait = min(60.0, self.delay * (2 ** attempt)) or 1.0
            try:
                response = self.client.get(self.request.endpoint, params=self._params(state))
                if response.status_code == 503 or response.status_code == 429:
                    wait = retry_after_seconds(response.headers.get("Retry-After"), wait)
                    if wait > self.max_retry_after:
                        raise HarvestError(f"the server asks to wait {wait:.0f} s "
                                           f"(more than {self.max_retry_after:.0f})")
                    reason = f"HTTP {response.status_code}, Retry-After {wait:.0f} s"
                elif response.status_code >= 400:
                    if response.status_code < 500:
                        raise HarvestError(f"HTTP {response.status_code} from {response.request.url}")
                    reason = f"HTTP {response.status_code}"
                else:
                    body = response.content
                    return body, parse_page(body)
            except httpx.TransportError as exc:  # connection refused, dropped mid-page, timeout
                reason = f"{type(exc).__name__}: {exc}"
            except ValueError as exc:  # a page cut short
                reason = str(exc)
            attempt += 1
            summary.retries += 1
            if attempt > self.max_retries:
                raise HarvestError(f"giving up after {self.max_retries} retries: {reason}")
            self.log(f"retrying page {state.pages + 1} in {wait:.1f} s ({reason})")
            self.sleep(wait)

    def _save_page(self, number: int, body: bytes) -> Path:
        """Pages are kept (gzip, fast level) as the provenance of what was ingested, and for re-ingest."""
        self.pages_dir.mkdir(parents=True, exist_ok=True)
        path = self.pages_dir / f"page{number:05d}.xml.gz"
        tmp = path.with_name(path.name + ".tmp")
        with gzip.open(tmp, "wb", compresslevel=1) as handle:
            handle.write(body)
        os.replace(tmp, path)
        return path

    def run(self, max_pages: int | None = None) -> HarvestSummary:
        """Harvest until the list is complete (or ``max_pages`` pages this run); returns what was done."""
        summary = HarvestSummary()
        state = HarvestState.load(self.state_path)
        if state is not None and state.same_request(self.request) and (state.token or state.done):
            summary.resumed = True
            self.log(f"resuming after page {state.pages} ({state.records:,} records)")
        else:
            state = HarvestState(**{k: v for k, v in asdict(self.request).items()})
        summary.state = state
        try:
            first = True
            while not state.done:
                if max_pages is not None and summary.pages >= max_pages:
                    break
                if not first and self.delay:
                    self.sleep(self.delay)  # be polite between requests
                first = False
                body, page = self._fetch(state, summary)
                if page.token is not None and page.token == state.token:
                    raise HarvestError(f"the server answered token {page.token!r} with the same token: "
                                       "it would loop forever")
                path = self._save_page(state.pages + 1, body)
                summary.results.append(self.on_page(path, page))
                state.pages += 1
                state.records += page.records
                state.complete_list_size = page.complete_list_size or state.complete_list_size
                state.token = page.token
                state.done = page.token is None
                state.save(self.state_path)  # only after the page is ingested
                summary.pages += 1
                summary.records += page.records
                self.log(f"page {state.pages}: {page.records} records"
                         + (f" ({state.records:,}/{state.complete_list_size:,})" if state.complete_list_size else ""))
        finally:
            if self._own_client:
                self.client.close()
        summary.done = state.done
        return summary
