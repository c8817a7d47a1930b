"""The site in a real browser: Debian's headless Chromium driven by Playwright (never a Playwright browser download).

Walks home -> search -> paper -> author -> name cluster, subscribes, checks that a title holding
``<script>alert(1)</script>`` renders as text (and no script runs), and that a phone-sized screen needs no sideways
scrolling.  Screenshots of every page go to test-output/screenshots/.
"""

from __future__ import annotations

import re
import shutil
import threading
import time
from pathlib import Path

import pytest

from paperatlas.bench.fixtures.smtp_sink import SmtpSink
from paperatlas.bench.fixtures.web_store import HOSTILE_TITLE, build_fixture_store
from paperatlas.digest.config import load_config
from paperatlas.store import open_store
from paperatlas.web.app import create_app
from paperatlas.web.serve import free_port
from support.indexes import build_indexes

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
SHOTS = Path(__file__).resolve().parents[1] / "test-output" / "screenshots"
# The hostile title as a browser shows it: markup as text, its TeX math laid out as MathML (an italic alpha)
SHOWN_TITLE = HOSTILE_TITLE.replace("$\\alpha$", "\U0001d6fc")


def shown(text: str) -> str:
    return re.sub(r"\n\s*", "", text)

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                                reason="Debian's chromium is not installed (scripts/setup-env.sh installs it)")


@pytest.fixture(scope="module")
def server(tmp_path_factory, shared):
    import uvicorn

    store = open_store(tmp_path_factory.mktemp("browser") / "data")
    ids = build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12", limit=80)
    build_indexes(store)
    app = create_app(store)
    # the digest's real local SMTP server, so the subscribe form goes all the way to a sent mail
    sink = SmtpSink().start()
    app.state.digest_config = load_config(store.data_dir, env={
        "PAPERATLAS_SMTP_URL": f"smtp://127.0.0.1:{sink.port}", "PAPERATLAS_MAIL_FROM": "atlas@example.org",
        "PAPERATLAS_SECRET_KEY": "browser-test-secret-0123456789abcdef"})
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.time() + 20
    while not srv.started and time.time() < deadline:
        time.sleep(0.05)
    assert srv.started, "the server did not start"
    yield f"http://127.0.0.1:{port}", ids, app, sink
    srv.should_exit = True
    thread.join(timeout=10)
    if sink is not None:
        sink.stop()
    store.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield chromium
        chromium.close()


def test_walk_home_search_paper_author_name(server, browser):
    base, ids, _, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    page.goto(base + "/")
    assert page.locator("h1").first.inner_text().startswith("Trending papers")
    assert shown(page.locator(f'a[href="/paper/{ids["hostile"]}"]').first.inner_text()) == SHOWN_TITLE
    page.screenshot(path=str(SHOTS / "1-home.png"), full_page=True)

    page.fill("#q", "learning")
    page.press("#q", "Enter")
    page.wait_for_url(re.compile(r"/search\?q=learning"))
    results = page.locator("article.paper h2 a")
    assert results.count() > 0
    page.screenshot(path=str(SHOTS / "2-search.png"), full_page=True)

    results.first.click()
    page.wait_for_url(re.compile(r"/paper/p"))
    assert page.locator("h1").inner_text() and page.locator("#abs-h").is_visible()
    page.screenshot(path=str(SHOTS / "3-paper.png"), full_page=True)

    page.goto(base + f"/paper/{ids['paper']}")
    page.locator(".authorlist a").first.click()
    page.wait_for_url(re.compile(r"/author/a"))
    figures = page.locator(".figures").inner_text()
    assert "h-index" in figures and "papers" in figures
    page.screenshot(path=str(SHOTS / "4-author.png"), full_page=True)

    page.goto(base + f"/author/{ids['author']}")
    page.get_by_role("link", name=f"All papers with an author named {ids['shared_name']}").click()
    page.wait_for_url(re.compile(r"/name/"))
    counts = page.locator(".counts").inner_text()
    listed = page.locator("article.paper").count()
    assert f"{listed} papers" in counts and "2 author rows" in counts
    page.screenshot(path=str(SHOTS / "5-name-cluster.png"), full_page=True)
    assert dialogs == []
    page.close()


def test_hostile_title_renders_as_text_and_runs_nothing(server, browser):
    base, ids, _, _ = server
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto(base + f"/paper/{ids['hostile']}")
    assert shown(page.locator("h1").inner_text()) == SHOWN_TITLE
    assert page.locator("main script").count() == 0 and page.locator("main img").count() == 0
    assert "<img src=x onerror=alert(2)>" in page.locator("p.abstract").inner_text()
    page.screenshot(path=str(SHOTS / "6-hostile-title.png"), full_page=True)
    assert dialogs == []
    page.close()


def test_subscribe_from_home(server, browser):
    base, _, _, sink = server
    page = browser.new_page()
    page.goto(base + "/")
    page.fill("#sub-email", "reader@example.org")
    with page.expect_navigation(url=re.compile(r"/subscribe")):  # the script first fetches a CSRF token
        page.get_by_role("button", name="Subscribe").click()
    heading = page.locator("h1").first.inner_text()
    page.screenshot(path=str(SHOTS / "7-subscribe.png"), full_page=True)
    assert heading == "Check your inbox", page.content()[:2000]
    if sink is not None:
        deadline = time.time() + 10
        while not sink.recorder.received and time.time() < deadline:
            time.sleep(0.1)
        assert sink.recorder.received and sink.recorder.received[0].rcpt_tos == ["reader@example.org"]
    page.close()


def test_phone_layout_needs_no_sideways_scrolling(server, browser):
    base, ids, _, _ = server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    for name, url in (("home", "/"), ("paper", f"/paper/{ids['hostile']}"), ("author", f"/author/{ids['author']}")):
        page.goto(base + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"{name} page is {width}px wide on a 390px screen"
        page.screenshot(path=str(SHOTS / f"8-phone-{name}.png"), full_page=True)
    context.close()


def test_issue20_pages_explain_order_render_math_and_navigate(server, browser):
    """The trending number is the order and says why; math is MathML the browser lays out; the header reaches
    every section; the favicon loads (no 404 on any request); feeds are linked."""
    base, ids, _, _ = server
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    failed: list[str] = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto(base + "/")
    scores = [float(t.removeprefix("Trending ")) for t in page.locator(".badge.trend").all_inner_texts()]
    assert scores and scores == sorted(scores, reverse=True)
    assert page.locator(".why-order").count() == len(scores)
    assert "As of" in page.locator(".asof").inner_text()
    assert page.locator("link[rel=icon]").count() == 1 and page.locator("link[type='application/rss+xml'], "
                                                                         "a[href='/feed/trending.rss']").count()
    for label, path in (("Categories", "/c"), ("Authors", "/authors"), ("API", "/docs"), ("Trending", "/")):
        page.locator("nav.sections").get_by_role("link", name=label, exact=True).click()
        page.wait_for_url(base + path)
        assert page.locator("nav.sections a[aria-current=page]").inner_text() == label
    page.goto(base + f"/paper/{ids['hostile']}")  # its abstract holds $x<y$
    box = page.locator("p.abstract math").first.bounding_box()
    assert box and box["width"] > 5 and box["height"] > 5  # laid out as math, not shown as TeX source
    assert page.locator("p.abstract").inner_text().count("$") == 0
    page.goto(base + f"/author/{ids['author']}")
    fills = page.evaluate("""Array.from(document.querySelectorAll('.chart rect')).map(r => [r.getAttribute('class'),
                             getComputedStyle(r).fill])""")
    papers = {f for c, f in fills if c == "papers"}
    cites = {f for c, f in fills if c == "citations"}
    assert len(papers) == 1 and len(cites) == 1 and papers != cites  # legend squares are coloured like their bars
    page.goto(base + "/?offset=5000")
    assert "End of the feed" in page.locator(".end").inner_text()
    assert not [u for u in failed if "favicon" in u or "/static/" in u], failed
    page.close()


def test_phone_search_facets_fold_under_a_toggle(server, browser):
    base, _, _, _ = server
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    page = context.new_page()
    page.goto(base + "/search?q=learning")
    toggle = page.locator("details.facetbox")
    assert toggle.count() == 1 and toggle.get_attribute("open") is None
    first = page.locator("article.paper").first.bounding_box()
    assert first and first["y"] < 844  # the first result is on the first screen
    page.locator("details.facetbox summary").click()
    assert page.locator("details.facetbox h2").first.is_visible()
    for url in ("/docs", "/c", "/authors", "/search?q=learning"):
        page.goto(base + url)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 392, f"{url} is {width}px wide on a 390px screen"
    context.close()
    desktop = browser.new_page(viewport={"width": 1280, "height": 900})
    desktop.goto(base + "/search?q=learning")
    assert desktop.locator("details.facetbox").get_attribute("open") is not None
    desktop.close()
