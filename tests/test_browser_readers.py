"""A reader's walk in a real browser (Debian's Chromium through Playwright): sign in from the outbox link ->
upvote -> save -> export BibTeX -> follow an author -> claim the profile (approved by the e-mail domain) -> remove
a wrong paper -> rebuild -> the paper stays off.  The store is real DBLP "Jun Zhang" records clustered by the real
disambiguation stage; the demo's outbox stands in for a mail server.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import bibtexparser
import orjson
import pytest

from paperatlas.disambiguation import stage
from paperatlas.disambiguation.datasets import read_dblp_homonyms
from paperatlas.pipeline.build import BuildOptions
from paperatlas.store import open_store
from paperatlas.web.app import create_app
from paperatlas.web.serve import free_port
from support.mention_store import insert_mentions

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"

pytestmark = [pytest.mark.browser, pytest.mark.slow,
              pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                                 reason="Debian's chromium is not installed (scripts/setup-env.sh installs it)")]


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared):
    import uvicorn

    from paperatlas.digest.config import load_config

    store = open_store(tmp_path_factory.mktemp("browser-readers") / "data")
    jz = read_dblp_homonyms(shared / "disambiguation" / "dblp-jun-zhang-homonyms")
    insert_mentions(store, jz.mentions[:400])
    stage.run(store, BuildOptions(show_progress=False))
    app = create_app(store, outbox=True)
    app.state.digest_config = load_config(store.data_dir, env={"PAPERATLAS_SECRET_KEY": "browser-readers-0123456789"})
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not server.started and time.time() < deadline:
        time.sleep(0.05)
    assert server.started
    yield f"http://127.0.0.1:{port}", store
    server.should_exit = True
    thread.join(timeout=10)
    store.close()


def _papers_of(store, aid: str) -> set[str]:
    return {p for (p,) in store.db.query_tuples(
        "SELECT p.pid FROM papers p JOIN authorships a ON a.paper_id = p.id JOIN identities i "
        "ON i.id = a.identity_id WHERE i.aid = ?", (aid,))}


def test_reader_walk(site, tmp_path):
    from playwright.sync_api import sync_playwright

    base, store = site
    aid, identity = store.db.query_tuples(
        "SELECT i.aid, i.id FROM identities i JOIN authorships a ON a.identity_id = i.id "
        "WHERE i.name_key = 'jun zhang' GROUP BY i.id, i.aid ORDER BY COUNT(*) DESC, i.id LIMIT 1")[0]
    # the person's papers name their institution, as arXiv and OpenAlex records do
    store.db.execute("UPDATE authorships SET affiliations = ? WHERE identity_id = ?",
                     (orjson.dumps(["Atlasville Institute of Technology"]).decode(), identity))
    papers = sorted(_papers_of(store, aid))
    assert len(papers) >= 2
    first, wrong = papers[0], papers[-1]
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        page = browser.new_page(viewport={"width": 1280, "height": 900}, accept_downloads=True)

        # sign in: the form, the outbox, the link in the mail, the button
        page.goto(base + f"/paper/{first}")
        page.get_by_role("button", name=re.compile("Upvote")).click()  # anonymous: sent to sign in first
        page.wait_for_url(re.compile(r"/signin\?next="))
        page.fill("#signin-email", "jz@cs.atlasville.edu")
        page.get_by_role("button", name="Mail me a sign-in link").click()
        assert page.locator("h1").inner_text() == "Check your inbox"
        page.get_by_role("link", name=re.compile("Open the outbox")).click()
        page.locator("ul.outbox a").first.click()
        page.locator('pre.mail a[href*="/signin/link"]').click()
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url(re.compile(rf"/paper/{first}$"))
        page.screenshot(path=str(SHOTS / "r1-signed-in.png"), full_page=True)

        # upvote (the script fills the CSRF token from the cookie), then save and export BibTeX
        page.get_by_role("button", name=re.compile("Upvote")).click()
        page.wait_for_url(re.compile(rf"/paper/{first}$"))
        assert page.locator(".upvote .votes").inner_text() == "1"
        page.get_by_role("button", name="Save to library").click()
        page.wait_for_url(re.compile(r"/library$"))
        page.get_by_role("link", name="Saved").click()
        with page.expect_download() as download:
            page.locator("#export-bibtex").click()
        target = tmp_path / "saved.bib"
        download.value.save_as(target)
        entries = bibtexparser.parse_string(target.read_text(encoding="utf-8")).entries
        title = store.db.scalar("SELECT title FROM papers WHERE pid = ?", (first,))
        assert len(entries) == 1 and " ".join(title.split())[:20] in entries[0]["title"]
        page.screenshot(path=str(SHOTS / "r2-library.png"), full_page=True)

        # follow the author from their page
        page.goto(base + f"/author/{aid}")
        page.get_by_role("button", name="Follow", exact=True).click()
        page.wait_for_url(re.compile(r"/following$"))
        assert page.locator(f'ul.follows a[href="/author/{aid}"]').count() == 1

        # claim the profile: the e-mail domain matches the affiliation, so it is approved at once
        page.goto(base + f"/author/{aid}")
        page.get_by_role("button", name=re.compile("This is me")).click()
        page.wait_for_url(re.compile(rf"/author/{aid}/manage$"))
        page.locator(f'button[data-remove="{wrong}"]').click()
        page.wait_for_url(re.compile(r"/manage\?done=remove"))
        page.screenshot(path=str(SHOTS / "r3-manage.png"), full_page=True)

        # a full rebuild of the identities: the removed paper stays off the profile
        stage.run(store, BuildOptions(show_progress=False, full=True))
        page.goto(base + f"/author/{aid}")
        page.screenshot(path=str(SHOTS / "r4-after-rebuild.png"), full_page=True)
        assert "Verified by the author" in page.locator(".verified").inner_text()
        listed = page.locator(f'a[href="/paper/{wrong}"]').count()
        assert listed == 0 and wrong not in _papers_of(store, aid)
        assert _papers_of(store, aid) == set(papers) - {wrong}  # only that one paper left the profile
        browser.close()
