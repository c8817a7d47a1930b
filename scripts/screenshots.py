"""Fresh screenshots for docs/img: the home feed, a paper, an author and a name cluster, desktop and phone.

    paperatlas --data-dir /tmp/demo demo --no-serve     # build the demo store once
    python scripts/screenshots.py /tmp/demo docs/img

Pages are chosen from the store, not named: the paper is the most trending one whose abstract holds TeX math (so
the MathML shows), the author the identity with most papers, the name cluster the name shared by most people.
Debian's Chromium (/usr/bin/chromium) through Playwright, as the browser tests use it.
"""

from __future__ import annotations

import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

import uvicorn
from playwright.sync_api import sync_playwright

from paperatlas.store import open_store
from paperatlas.web.app import create_app
from paperatlas.web.serve import free_port

SIZES = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def pages(store) -> dict[str, str]:
    db = store.db
    paper = db.scalar("SELECT p.pid FROM papers p JOIN paper_metrics m ON m.paper_id = p.id "
                      "WHERE p.abstract LIKE '%$%$%' ORDER BY m.trending DESC NULLS LAST LIMIT 1") \
        or db.scalar("SELECT pid FROM papers ORDER BY submitted DESC LIMIT 1")
    author = db.scalar("SELECT i.aid FROM identities i JOIN authorships a ON a.identity_id = i.id "
                       "GROUP BY i.id ORDER BY COUNT(DISTINCT a.paper_id) DESC LIMIT 1")
    name = db.scalar("SELECT MIN(a.name) FROM authorships a WHERE a.identity_id IS NOT NULL GROUP BY a.name_key "
                     "ORDER BY COUNT(DISTINCT a.identity_id) DESC, COUNT(*) DESC LIMIT 1")
    return {"home": "/", "paper": f"/paper/{paper}", "author": f"/author/{author}",
            "name-cluster": f"/name/{quote(name, safe='')}"}


def main(data_dir: str, out: str) -> None:
    target = Path(out)
    target.mkdir(parents=True, exist_ok=True)
    store = open_store(Path(data_dir))
    server = uvicorn.Server(uvicorn.Config(create_app(store), host="127.0.0.1", port=free_port(), log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    base = f"http://127.0.0.1:{server.config.port}"
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--headless", "--no-sandbox"])
        for size, viewport in SIZES.items():
            context = browser.new_context(viewport=viewport, is_mobile=size == "phone")
            page = context.new_page()
            for name, path in pages(store).items():
                response = page.goto(base + path)
                if response is None or response.status != 200:
                    raise SystemExit(f"{path} answered {response.status if response else 'nothing'}")
                # the first two screens: what a reader sees before scrolling far
                page.screenshot(path=str(target / f"{name}-{size}.png"),
                                clip={"x": 0, "y": 0, "width": viewport["width"], "height": viewport["height"] * 2},
                                full_page=True)
                print(target / f"{name}-{size}.png", path)
            context.close()
        browser.close()
    server.should_exit = True
    store.close()


if __name__ == "__main__":
    main(*sys.argv[1:3])
