"""Cross-source merging: identifiers first, then title + year + first author; field precedence and provenance;
authorships enriched from the other sources.  Real arXiv pages, DBLP records in the real dblp.xml format."""

from __future__ import annotations

import orjson
import pytest

from paperatlas.ingest import ingest_paths
from paperatlas.merge.fold import Held, fold
from paperatlas.merge.matching import Candidate, title_match
from paperatlas.model import unpack_provenance
from paperatlas.normalize import title_key
from paperatlas.store.papers import get_paper, resolve_paper

DBLP = """<?xml version="1.0" encoding="ISO-8859-1"?>
<!DOCTYPE dblp SYSTEM "dblp.dtd">
<dblp>
<article mdate="2017-05-28" key="journals/jmp/CsiszarHP07">
<author>Imre Csisz&aacute;r</author>
<author>Fumio Hiai</author>
<author>D&eacute;nes Petz</author>
<title>Limit relation for quantum entropy and channel capacity per unit cost.</title>
<year>2007</year>
<volume>48</volume>
<journal>J. Math. Phys.</journal>
<ee>https://arxiv.org/abs/0704.0046</ee>
</article>
<inproceedings mdate="2019-01-01" key="conf/gd/StreinuT08">
<author orcid="0000-0002-1234-5678">Ileana Streinu 0001</author>
<author>Louis Theran</author>
<title>Sparsity-certifying Graph Decompositions.</title>
<year>2008</year>
<booktitle>GD</booktitle>
</inproceedings>
<inproceedings mdate="2019-01-01" key="conf/gd/Other08">
<author>Someone Else</author>
<title>Sparsity-certifying Graph Decompositions.</title>
<year>2008</year>
<booktitle>GD</booktitle>
</inproceedings>
</dblp>
"""


def test_dblp_records_merge_into_arxiv_papers_with_precedence(store, shared, tmp_path):
    ingest_paths(store, [shared / "arxiv" / "oai-pmh-cs-2016" / "page001.xml.gz"], show_progress=False)
    (tmp_path / "frag.xml").write_bytes(DBLP.encode("iso-8859-1"))
    summary = ingest_paths(store, [tmp_path / "frag.xml"], show_progress=False)
    assert (summary.read, summary.merged, summary.new) == (3, 2, 1)  # by arXiv ee link, by title; other author

    by_link = get_paper(store.db, resolve_paper(store.db, "arxiv:0704.0046"))
    assert by_link.ids["dblp"] == "journals/jmp/CsiszarHP07"
    assert by_link.title == "A limit relation for entropy and channel capacity per unit cost"  # arXiv's title
    assert by_link.venue.name and by_link.venue.kind != "preprint"  # DBLP's venue beats arXiv's preprint line
    assert by_link.provenance["venue"].startswith("dblp:")
    assert by_link.provenance["abstract"].startswith("arxiv-oai:")

    by_title = get_paper(store.db, resolve_paper(store.db, "dblp:conf/gd/StreinuT08"))
    assert by_title.ids["arxiv"] == "0704.0002"
    first = by_title.authors[0]
    assert first.name == "Ileana Streinu"  # arXiv's author list...
    assert first.dblp_homonym == "0001" and first.orcid == "0000-0002-1234-5678"  # ...enriched from DBLP
    other = resolve_paper(store.db, "dblp:conf/gd/Other08")
    assert other not in (None, by_title.id)

    again = ingest_paths(store, [tmp_path / "frag.xml"], show_progress=False)
    assert again.unchanged == 3 and again.merged == 0


def _held(source, data):
    return Held(data, source, f"{source}:f:line 1", f"{source}|x")


def test_newest_arxiv_version_wins_title_and_dates():
    old = {"ids": {"arxiv": "1706.03762"}, "title": "Attention Is All You Need (v1)", "abstract": "old",
           "submitted": "2017-06-12", "updated": "2017-06-12", "arxiv_version": 1, "authors": []}
    new = {**old, "title": "Attention Is All You Need", "abstract": "new", "updated": "2017-12-06",
           "arxiv_version": 5}
    for order in ([old, new], [new, old]):
        paper = fold([_held("arxiv-snapshot" if r is old else "arxiv-oai", r) for r in order])
        assert paper.columns["title"] == "Attention Is All You Need"
        assert paper.columns["updated"] == "2017-12-06" and paper.columns["arxiv_version"] == 5
        assert unpack_provenance(paper.columns["provenance"])["title"].startswith("arxiv-oai:")


def test_title_match_rules():
    cands = [Candidate(1, 2016, "vaswani", {"1706.03762"}), Candidate(2, 2010, "vaswani")]
    assert title_match(cands, 2017, "vaswani", None) == 1
    assert title_match(cands, 2017, "vaswani", "1706.03762") == 1
    assert title_match(cands, 2017, "vaswani", "1801.00001") is None  # a different arXiv paper
    assert title_match(cands, 2017, "shazeer", None) is None
    assert title_match(cands, 2013, "vaswani", None) is None  # two years from both
    assert title_match(cands, 2017, "", None) is None
    compound = [Candidate(3, 2015, "elveyprice")]
    assert title_match(compound, 2015, "price", None) == 3  # "Andrew Elvey Price" vs keyname "Elvey-Price"
    assert title_match([Candidate(4, 2015, "eli")], 2015, "li", None) is None


def test_fast_pid_is_make_pid():
    from paperatlas.merge.writer import fast_pid
    from paperatlas.store.ids import make_pid

    for seed in ("arxiv:0704.0002", "doi:10.1162/089120102762671936", "acl:P02-1001", "dblp:conf/gd/Ü", ""):
        assert fast_pid(seed) == make_pid(seed)


def test_provenance_is_packed_by_place_and_unpacks_per_field():
    from paperatlas.model import pack_provenance

    one = fold([_held("arxiv-oai", {"ids": {"arxiv": "1706.03762"}, "title": "T", "abstract": "A",
                                    "authors": [{"name": "Ashish Vaswani"}]})])
    packed = one.columns["provenance"]
    fields = unpack_provenance(packed)
    assert set(fields) == {"title", "abstract", "authors"} and len(set(fields.values())) == 1
    assert pack_provenance(fields) == packed
    old_form = orjson.dumps({"title": "dblp:x.xml:line 3", "venue": "dblp:x.xml:line 3"}).decode()
    assert unpack_provenance(old_form) == {"title": "dblp:x.xml:line 3", "venue": "dblp:x.xml:line 3"}
    assert fold([_held("dblp", {"ids": {"dblp": "x"}})]).columns["provenance"] == "{}"


@pytest.mark.parametrize(("tex", "unicode"), [
    ("Efficiently Finding All Maximal $\\alpha$-gapped Repeats", "Efficiently Finding All Maximal $α$-gapped Repeats"),
    ("On a problem of Erd\\H{o}s and P\\'olya", "On a problem of Erdős and Pólya"),
    ('Schr\\"odinger operators', "Schrödinger operators"),
    ('Gr{\\"o}{\\ss}e Zahlen', "Größe Zahlen"),
    ("The $\\Gamma$-function and \\v{C}ech", "The Γ-function and Čech"),
    ("Fran\\c cois and Fran\\c{c}ois", "François and François"),
    ("{\\L}ukasiewicz logic", "Łukasiewicz logic"),
    ('Na\\"{\\i}ve Bayes', "Naïve Bayes"),
    ("{\\it Italic} {BERT} models", "Italic BERT models"),
])
def test_title_key_reads_tex_as_its_unicode_spelling(tex, unicode):
    assert title_key(tex) == title_key(unicode) != ""


def test_title_key_keeps_words_apart():
    assert title_key("Deep \\emph{Learning}") == "deep learning"
    assert title_key("A \\v{S}ko\\v{d}a study") == "a skoda study"
    assert title_key("Graph $\\beta$-skeletons") != title_key("Graph skeletons")
