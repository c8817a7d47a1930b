"""Issue 20's pages: valid feeds, TeX read as Unicode (math as MathML), the trending order explained, category
names and cross-listed papers, an honest end of the feed, site navigation and favicon.

Feeds are checked twice: by feedparser (``bozo`` false), and by this file's own rules, because feedparser accepts
much that a strict reader refuses (duplicate ids, ``2013T00:00:00Z`` dates, a self link that is not a URL).
"""

from __future__ import annotations

import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from pathlib import Path

import feedparser
import orjson
import pytest
from fastapi.testclient import TestClient
from lxml import etree

from paperatlas.bench.fixtures.web_store import build_fixture_store
from paperatlas.store import open_store
from paperatlas.tex import split_math, tex_to_unicode
from paperatlas.web.app import create_app
from paperatlas.web.mathml import tex_html
from paperatlas.web.taxonomy import category_name, category_title
from support.indexes import build_indexes

DEMO_OAI = Path(__file__).resolve().parents[1] / "demo" / "corpus" / "arxiv-oai"
RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$")
ATOM_NS = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(scope="module")
def site(tmp_path_factory, shared):
    store = open_store(tmp_path_factory.mktemp("pages") / "data")
    ids = build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12")
    build_indexes(store, vectors=False)
    client = TestClient(create_app(store), raise_server_exceptions=False)
    yield client, ids, store
    store.close()


@pytest.fixture(scope="module")
def oai_site(tmp_path_factory):
    """The demo's arXiv OAI pages through the real ingest: titles, abstracts and names written in TeX."""
    from paperatlas.ingest import ingest_paths

    store = open_store(tmp_path_factory.mktemp("oai") / "data")
    ingest_paths(store, [DEMO_OAI], show_progress=False)
    build_indexes(store, vectors=False)
    yield TestClient(create_app(store), raise_server_exceptions=False), store
    store.close()


# ------------------------------------------------------------------------------------------------------- feeds


def feed_urls(ids: dict) -> list[str]:
    return [f"{path}.{kind}{query}" for kind in ("atom", "rss") for path, query in (
        ("/feed/trending", ""), ("/feed/trending", f"?category={ids['category']}"),
        (f"/author/{ids['author']}/feed", ""), ("/search/feed", "?q=learning"))]


def test_every_feed_route_parses_without_bozo_and_follows_the_strict_rules(site):
    client, ids, _ = site
    for url in feed_urls(ids):
        response = client.get(url)
        assert response.status_code == 200, url
        kind = "atom" if ".atom" in url else "rss"
        assert response.headers["content-type"].startswith(f"application/{kind}+xml"), url
        parsed = feedparser.parse(response.content)
        assert not parsed.bozo, (url, parsed.get("bozo_exception"))
        assert parsed.version == ("atom10" if kind == "atom" else "rss20"), url
        assert parsed.entries, url
        entry_ids = [e.get("id") for e in parsed.entries]
        assert all(entry_ids) and len(set(entry_ids)) == len(entry_ids), url
        assert all(i.startswith("http://testserver/paper/p") for i in entry_ids), url
        root = etree.fromstring(response.content)
        if kind == "atom":
            assert root.findtext(f"{ATOM_NS}id") == f"http://testserver{url}"
            self_links = [link.get("href") for link in root.findall(f"{ATOM_NS}link") if link.get("rel") == "self"]
            dates = [root.findtext(f"{ATOM_NS}updated")] + [e.findtext(f"{ATOM_NS}{tag}")
                                                             for e in root.findall(f"{ATOM_NS}entry")
                                                             for tag in ("updated", "published")]
            for day in dates:
                assert RFC3339.match(day), (url, day)
                datetime.fromisoformat(day.replace("Z", "+00:00"))
        else:
            channel = root.find("channel")
            self_links = [link.get("href") for link in channel.findall(f"{ATOM_NS}link") if link.get("rel") == "self"]
            dates = [channel.findtext("lastBuildDate")] + [i.findtext("pubDate") for i in channel.findall("item")]
            for day in dates:
                assert parsedate_to_datetime(day).tzinfo is not None, (url, day)
                assert re.match(r"^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$", day), day
        assert self_links == [f"http://testserver{url}"], url
        assert "TemplateReference" not in response.text


def test_feed_dates_of_a_year_only_paper_are_january_first():
    from paperatlas.web.feeds import entries

    card = {"pid": "pabc", "title": "T", "year": 2013, "date": "2013", "submitted": None, "updated": None,
            "published": None, "authors": []}
    entry = entries("http://x/", [card, card])  # listed twice: one entry, one id
    assert len(entry) == 1 and entry[0]["published"] == "2013-01-01T00:00:00Z"
    assert entry[0]["pub_date"] == "Tue, 01 Jan 2013 00:00:00 GMT"


def test_unknown_feed_kind_is_a_404(site):
    client, _, _ = site
    assert client.get("/feed/trending.json").status_code == 404


# -------------------------------------------------------------------------------------------------------- TeX


@pytest.mark.parametrize(("raw", "expected"), [
    (r"Fran\c{c}ois Charpillet", "François Charpillet"),
    (r"Fran\ccois Charpillet", "François Charpillet"),
    (r"Kekul\'e Cells", "Kekulé Cells"),
    (r"Gr{\"o}{\ss}e Erd\H{o}s", "Größe Erdős"),
    (r"{\'E}cole \L{}ukasz \v{S}imon", "École Łukasz Šimon"),
    ("the ``lost in the middle'' effect", "the “lost in the middle” effect"),
    (r"\emph{Deep} {BERT} pages 1--2 \& more", "Deep BERT pages 1–2 & more"),
    (r"regret $\ln\ln T$ with \'e", r"regret $\ln\ln T$ with é"),
    (r"a $\hat{x}$ and $\'e$", r"a $\hat{x}$ and $\'e$"),
    ("Plain DBLP title: don't change", "Plain DBLP title: don't change"),
])
def test_tex_to_unicode(raw, expected):
    assert tex_to_unicode(raw) == expected


def test_math_is_mathml_and_hostile_math_is_inert():
    html = str(tex_html(r"bound $\ln\ln T$ & <b>"))
    assert "<math" in html and "<mi>ln</mi>" in html and "&amp; &lt;b&gt;" in html
    assert split_math(r"costs \$5 and $x$") == [(False, r"costs \$5 and "), (True, "$x$")]
    for hostile in (r"$\text{<img src=x onerror=alert(1)>}$", r"$\href{javascript:alert(1)}{x}$",
                    r"$\style{color:red}{x}$"):
        out = str(tex_html(hostile))
        assert " href=" not in out and " style=" not in out and "<img" not in out, out


def test_ingest_reads_tex_as_unicode_and_keeps_the_raw_record(oai_site):
    client, store = oai_site
    rows = store.db.query_tuples("SELECT p.pid, p.title, r.data FROM papers p JOIN paper_records r "
                                 "ON r.paper_id = p.id WHERE r.data LIKE ?", ("%Kekul%",))
    assert rows
    pid, title, raw = rows[0]
    assert "Kekulé" in title and "\\'" not in title
    assert "Kekul\\'e" in orjson.loads(raw)["title"]
    assert "Kekulé" in client.get(f"/paper/{pid}").text
    titles = [t for (t,) in store.db.query_tuples("SELECT title FROM papers")]
    abstracts = [a for (a,) in store.db.query_tuples("SELECT abstract FROM papers WHERE abstract IS NOT NULL")]
    accent = re.compile(r"\\[\"'`^~=.]\{?[A-Za-z]|\\c\{?[cC]|``")
    outside_math = [piece for text in titles + abstracts for is_math, piece in split_math(text) if not is_math]
    assert not [p for p in outside_math if accent.search(p)]
    names = [n for (n,) in store.db.query_tuples("SELECT name FROM authorships")]
    assert not [n for n in names if "\\" in n]
    math_title = store.db.query_tuples("SELECT pid FROM papers WHERE title LIKE '%$%\\%$%' ESCAPE '!' LIMIT 1")
    if math_title:
        assert "<math" in client.get(f"/paper/{math_title[0][0]}").text


# ---------------------------------------------------------------------------------------------- feed and lists


def test_home_shows_trending_score_why_and_as_of(site):
    client, _ids, _store = site
    html = client.get("/").text
    assert "As of <time" in html and "trending score" in html
    scores = [float(s) for s in re.findall(r">Trending ([\d.]+)</span>", html)]
    assert scores and scores == sorted(scores, reverse=True)  # the number shown is the order
    assert html.count('class="why-order"') == len(scores)
    assert "fixture rank" in html  # the stored reason, whatever its shape, is what the line says


def test_why_this_order_reads_the_formula_inputs(site):
    from datetime import date, timedelta

    from paperatlas.metrics import trending
    from paperatlas.web.lists import why_order

    _, _, store = site
    newest = date.fromisoformat(store.db.scalar("SELECT MAX(submitted) FROM papers")[:10])
    figures = trending.compute(store.db, newest + timedelta(days=3))  # every paper at least 3 days old
    _pid, (_value, reason) = max(figures.items(), key=lambda item: item[1][1]["age_days"])
    phrases = why_order({"trending_reason": reason})
    assert f"{reason['age_days']} days old (score halves every 7 days)" in phrases
    assert ("code released" in phrases) == reason["has_code"]
    if reason["ai_score"] is not None:
        assert f"AI Score {reason['ai_score']:.0f}" in phrases


def test_the_feed_ends_honestly(site):
    client, _, store = site
    total = store.db.scalar("SELECT COUNT(*) FROM paper_metrics WHERE trending IS NOT NULL")
    assert total
    html = client.get("/?offset=2000").text
    assert "End of the feed" in html and "No papers yet" not in html and f"{total:,} trending paper" in html
    last = client.get(f"/?offset={(total - 1) // 20 * 20}").text
    assert "End of the feed" in last and 'rel="next"' not in last


def test_category_names_and_cross_listed_papers(site):
    client, _ids, store = site
    assert category_name("cs.CL") == "Computation and Language"
    assert category_title("math.CO") == "Combinatorics (math.CO)" and category_title("xx.YY") == "xx.YY"
    html = client.get("/c/cs.CL").text
    assert "<h1>Computation and Language" in html
    row = store.db.query_tuples(
        "SELECT p.primary_category, p.categories FROM papers p WHERE p.categories LIKE '%,%' "
        "AND p.primary_category IS NOT NULL ORDER BY p.submitted DESC LIMIT 1")
    assert row
    primary, categories = row[0]
    cross = next(c for c in orjson.loads(categories) if c != primary)
    page = client.get(f"/c/{cross}")
    assert page.status_code == 200 and "Cross-listed from" in page.text
    assert client.get("/c/xx.NOPE").status_code == 404
    index = client.get("/c").text
    assert f'href="/c/{primary}"' in index and (category_name(primary) or primary) in index


def test_header_nav_favicon_and_authors_index(site):
    client, _ids, _ = site
    html = client.get("/").text
    for label, href in (("Trending", "/"), ("Categories", "/c"), ("Authors", "/authors"),
                        ("Subscribe", "/subscribe"), ("API", "/docs")):
        assert f'<a href="{href}"' in html and f">{label}</a>" in html
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"].startswith("image/svg+xml")
    assert client.get("/static/favicon.svg").status_code == 200
    people = client.get("/authors").text
    assert "/author/a" in people
    found = client.get("/authors", params={"name": "zzzz qqqq"}).text
    assert "No author of that name" in found


# ------------------------------------------------------------------------------------------ paper and author


def test_paper_page_links_to_where_it_can_be_read(site):
    client, ids, _ = site
    html = client.get(f"/paper/{ids['paper']}").text
    assert f'href="https://arxiv.org/abs/{ids["arxiv"]}"' in html
    assert f'href="https://arxiv.org/pdf/{ids["arxiv"]}"' in html
    from paperatlas.web.links import paper_links

    links = paper_links({"acl": "2024.findings-naacl.12", "doi": "10.18653/v1/2024.findings-naacl.12"},
                        ["https://github.com/o/r"])
    urls = [link["url"] for link in links]
    assert "https://aclanthology.org/2024.findings-naacl.12/" in urls
    assert "https://aclanthology.org/2024.findings-naacl.12.pdf" in urls
    assert "https://doi.org/10.18653/v1/2024.findings-naacl.12" in urls and "https://github.com/o/r" in urls
    main = html[html.index("<main"):]
    assert f">{ids['paper']}<" not in main and f" {ids['paper']} " not in text_of(main)  # no raw internal id


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.mark.parametrize(("kind", "entry_type", "venue_field"), [
    ("conference", "inproceedings", "booktitle"), ("workshop", "inproceedings", "booktitle"),
    ("journal", "article", "journal"), ("preprint", "misc", None), (None, "misc", None)])
def test_bibtex_entry_types_parse_with_bibtexparser(kind, entry_type, venue_field):
    import bibtexparser

    from paperatlas.web.format import bibtex

    card = {"title": "Kekulé {Cells} for Molecules", "year": 2024, "venue_kind": kind,
            "venue_name": "Findings of NAACL" if kind != "preprint" else "arXiv",
            "authors": [{"name": "François Charpillet"}, {"name": "Ada Lovelace"}],
            "ids": {"arxiv": "2401.00001", "acl": "2024.findings-naacl.1"}, "primary_category": "cs.CL"}
    library = bibtexparser.parse_string(bibtex(card))
    assert not library.failed_blocks and len(library.entries) == 1
    entry = library.entries[0]
    assert entry.entry_type == entry_type
    fields = {f.key: f.value for f in entry.fields}
    assert fields["eprint"] == "2401.00001" and fields["archivePrefix"] == "arXiv"
    assert fields["author"] == "François Charpillet and Ada Lovelace"
    if venue_field:
        assert fields[venue_field] == "Findings of NAACL"
    assert "booktitle" not in fields or entry_type == "inproceedings"
    assert "journal" not in fields or entry_type == "article"


def test_real_paper_bibtex_parses(site):
    import bibtexparser

    client, ids, _ = site
    library = bibtexparser.parse_string(client.get(f"/paper/{ids['paper']}/bibtex").text)
    assert not library.failed_blocks and library.entries[0].entry_type == "misc"
    assert "booktitle" not in {f.key for f in library.entries[0].fields}


def test_findings_papers_are_not_the_main_conference():
    from paperatlas.sources.code_links import CodeLinksReader, venue_name

    assert venue_name("NAACL", "Findings") == "Findings of NAACL" and venue_name("ACL", "Long") == "ACL"
    record = CodeLinksReader()._record({"conference_file": "naacl/naacl2024.json", "title": "T", "author": "A B",
                                        "status": "Findings", "github": "github.com/o/r"}, "f.jsonl", 1)
    assert record.venue.name == "Findings of NAACL" and record.venue.year == 2024


def test_self_citation_counts_in_neither_place(tmp_path, shared):
    store = open_store(tmp_path / "data")
    ids = build_fixture_store(store, shared / "arxiv" / "atom-api" / "cs-2025-12", limit=30)
    paper_id = store.db.scalar("SELECT id FROM papers WHERE pid = ?", (ids["paper"],))
    store.db.execute("DELETE FROM paper_metrics WHERE paper_id = ?", (paper_id,))  # counted from the edges
    store.db.execute("INSERT INTO citations (citing_id, cited_ref, cited_id, source) VALUES (?, ?, ?, 'test')",
                     (paper_id, f"arxiv:{ids['arxiv']}", paper_id))
    client = TestClient(create_app(store, cache_size=0))
    html = client.get(f"/paper/{ids['paper']}").text
    cited_by = int(re.search(r"Cited by \((\d+)\)", html).group(1))
    shown = int(re.search(r"<dt>Citations</dt><dd>([\d,]+)", html).group(1).replace(",", ""))
    others = store.db.scalar("SELECT COUNT(DISTINCT citing_id) FROM citations WHERE cited_id = ? AND citing_id != ?",
                             (paper_id, paper_id))
    assert cited_by == shown == others
    store.close()


def test_author_page_labels_both_citation_counts_and_shows_venues(site):
    client, ids, _ = site
    html = client.get(f"/author/{ids['author']}").text
    assert "cited here" in html and "Cited here" in html
    data = client.get(f"/api/authors/{ids['author']}", params={"limit": 100}).json()
    assert data["citations_in_store"] == sum(p["citations_in_store"] for p in data["papers"]["items"])
    venues = [p["venue"] for p in data["papers"]["items"] if p["venue"]]
    assert venues and all(v in html for v in venues[:5])


def test_author_pages_page_by_25(site):
    client, _, store = site
    aid, total = store.db.query_tuples(
        "SELECT i.aid, COUNT(DISTINCT a.paper_id) AS n FROM identities i JOIN authorships a ON a.identity_id = i.id "
        "GROUP BY i.id ORDER BY n DESC LIMIT 1")[0]
    html = client.get(f"/author/{aid}").text
    assert html.count('<article class="paper">') == min(total, 25)
    assert ('rel="next"' in html) == (total > 25)


def test_name_cluster_rows_match_their_profiles_and_say_what_differs(site):
    client, ids, _ = site
    html = client.get(f"/name/{ids['shared_name']}").text
    rows = re.findall(r'<li><a href="/author/(a\w+)">[^<]*</a> <span class="n">([\d,]+) papers?', html)
    assert len(rows) >= 2
    counts = [int(n.replace(",", "")) for _, n in rows]
    assert counts == sorted(counts, reverse=True)
    for aid, count in zip((a for a, _ in rows), counts, strict=True):
        assert client.get(f"/api/authors/{aid}").json()["paper_count"] == count
        assert aid not in text_of(html)  # ids live in links, never in the text
    assert html.count('class="tellapart"') == len(rows)
    dates = re.findall(r'<time class="badge date" datetime="([^"]+)"', html[html.index('id="pp-h"'):])
    assert dates == sorted(dates, reverse=True)


def test_error_wording_is_one_style(site):
    client, _, _ = site
    for url in ("/no-such-page", "/paper/arxiv:9999.99999", "/?offset=-3", "/c/xx.NOPE"):
        page = client.get(url)
        detail = re.search(r'<section class="error">\s*<h1>[^<]+</h1>\s*<p>([^<]+)</p>', page.text).group(1)
        assert detail[0].isupper() and detail.endswith("."), (url, detail)
    assert client.get("/api/papers/nope").json()["error"] == "No paper with the id nope."


def test_docs_gives_a_working_example_per_endpoint(site):
    client, _, _ = site
    html = client.get("/docs").text
    examples = re.findall(r'<p><a href="(/api/[^"]+)">', html)
    schema = client.get("/openapi.json").json()["paths"]
    assert len(examples) == sum(1 for ops in schema.values() if "get" in ops)
    for url in examples:
        assert client.get(url.replace("&amp;", "&")).status_code == 200, url


def test_per_year_chart_puts_each_year_under_its_own_pair_of_bars():
    from paperatlas.web.chart import per_year_svg

    svg = str(per_year_svg([{"year": 2023, "papers": 2, "citations": 5}, {"year": 2024, "papers": 1, "citations": 9}]))
    root = etree.fromstring(svg.encode())
    ns = "{http://www.w3.org/2000/svg}"
    bars = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is not None]
    labels = {t.text: float(t.get("x")) for t in root.iter(f"{ns}text") if t.text and t.text.isdigit()}
    for year, x in labels.items():
        pair = [b for b in bars if b.findtext(f"{ns}title").startswith(year)]
        assert len(pair) == 2
        lo = min(float(b.get("x")) for b in pair)
        hi = max(float(b.get("x")) + float(b.get("width")) for b in pair)
        assert lo <= x <= hi, (year, lo, x, hi)
    legend = [r for r in root.iter(f"{ns}rect") if r.find(f"{ns}title") is None]
    assert [r.get("class") for r in legend] == ["papers", "citations"]


def test_a_store_with_nothing_trending_shows_its_newest_papers_and_says_so(tmp_path):
    """ACL Anthology records carry a year and no submission date: nothing can trend, and the home page says so."""
    from paperatlas.ingest import ingest_paths

    store = open_store(tmp_path / "data")
    ingest_paths(store, [DEMO_OAI.parent / "acl" / "acl-metadata.txt"], show_progress=False)
    client = TestClient(create_app(store, cache_size=0))
    html = client.get("/").text
    assert "Nothing is trending" in html and "No papers yet" not in html
    listed = html.count('<article class="paper">')
    assert listed == min(20, store.db.scalar("SELECT COUNT(*) FROM papers"))
    assert client.get("/api/trending").json()["items"] == []
    store.close()
