"""Code links (the ``Code`` badge), affiliation slugs, and the paper_code_links.jsonl reader."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from paperatlas.sources.affiliations import affiliation_slug
from paperatlas.sources.base import ErrorSink
from paperatlas.sources.code_links import CodeLinksReader
from paperatlas.sources.codelinks import find_code_links, normalize_code_link


@pytest.mark.parametrize(("raw", "expected"), [
    ("https://github.com/fsxlt", "https://github.com/fsxlt"),  # an organisation: still code
    ("github.com/sahaisaumya/informal_fallacies", "https://github.com/sahaisaumya/informal_fallacies"),
    ("https://www.github.com/mnskim/hebert3169", "https://github.com/mnskim/hebert3169"),
    ("github.com:dair-iitd/moie", "https://github.com/dair-iitd/moie"),
    ("git@github.com:org/repo.git", "https://github.com/org/repo"),
    ("github.com/cwszz/XPR/", "https://github.com/cwszz/XPR"),
    ("https://github.com/microsoft/FLAML/tree/main/", "https://github.com/microsoft/FLAML"),
    ("https://github.com/google-research/google-research/tree/master/compgen_d2t",
     "https://github.com/google-research/google-research/tree/master/compgen_d2t"),
    ("https://gitlab.com/group/sub/project/-/tree/main", "https://gitlab.com/group/sub/project"),
    ("https://bitbucket.org/owner/repo/src/master/", "https://bitbucket.org/owner/repo"),
    ("https://huggingface.co/datasets/allenai/c4", "https://huggingface.co/datasets/allenai/c4"),
    ("https://huggingface.co/bert-base-uncased/tree/main", "https://huggingface.co/bert-base-uncased/tree"),
    ("https://nextplusplus.github.io/TAT-QA/", None),  # a project page is not code
    ("https://github.com/user/user.github.io", None),
    ("https://huggingface.co/papers/2306.01116", None),
    ("https://github.com/topics/nlp", None),
    ("github.com", None),
    ("https://rowanzellers.com/piglet", None),
])
def test_normalize(raw: str, expected: str | None) -> None:
    assert normalize_code_link(raw) == expected


def test_find_in_free_text() -> None:
    text = ("Code: https://github.com/a/b. Data at huggingface.co/datasets/x/y), project page https://x.github.io/p "
            "and (github.com/c/d). Mirror: https://GitHub.com/A/B.git")
    assert find_code_links(text, None, "see https://gitlab.com/g/p.") == [
        "https://github.com/a/b", "https://huggingface.co/datasets/x/y", "https://github.com/c/d",
        "https://gitlab.com/g/p"]


@pytest.mark.parametrize(("name", "slug"), [
    ("Google DeepMind", "deepmind"),
    ("DeepMind, London, UK", "deepmind"),
    ("Allen Institute for AI", "allen-ai"),
    ("Allen Institute for Artificial Intelligence, Seattle", "allen-ai"),
    ("Department of Computer Science, Carnegie Mellon University, Pittsburgh, PA", "cmu"),
    ("Massachusetts Institute of Technology", "mit"),
    ("Machine Learning and Human Language Technology, RWTH Aachen University", "rwth-aachen-university"),
    ("Department of Computer Science, Aalborg University, Denmark", "aalborg-university"),
    ("Norwegian University of Science and Technology, Gjøvik, Norway",
     "norwegian-university-of-science-and-technology"),
    ("Ecohydrology Research Group, The University of Western Australia, Nedlands",
     "university-of-western-australia"),  # the university, not the group inside it
    ("Centro de Investigaciones en Ecosistemas, Universidad Autónoma de México, Morelia",
     "universidad-autonoma-de-mexico"),
    ("Policy Advisor, Forestry Commission, 231 Corstorphine Road, Edinburgh", "forestry-commission"),
    ("  ", None),
])
def test_affiliation_slugs(name: str, slug: str | None) -> None:
    assert affiliation_slug(name) == slug


def test_paper_code_links_file(shared: Path) -> None:
    path = shared / "code-links" / "paper_code_links.jsonl"
    sink = ErrorSink(echo=False)
    with open(path, "rb") as stream:
        records = list(CodeLinksReader().read(stream, str(path), sink))
    assert sink.count == 0 and len(records) == 1555
    raw = [json.loads(line)["github"] for line in path.read_text(encoding="utf-8").splitlines()]
    with_code = [r for r in records if r.code_links]
    assert len(with_code) == 1530  # the other 25 are github.io pages, personal sites, a bare host, a git.io link
    assert all(normalize_code_link(g) is None for g, r in zip(raw, records, strict=True) if not r.code_links)
    first = records[0]
    assert first.ids == {"acl": "2021.acl-long.447"} and first.code_links == ["https://github.com/fsxlt"]
    assert (first.venue.name, first.venue.year, first.venue.kind) == ("ACL", 2021, "conference")
    assert first.authors[3].name == "Ivan Vulić" and first.external_citation_count == 56
    cvpr = next(r for r in records if r.title == "Toward Convolutional Blind Denoising of Real Photographs")
    assert cvpr.ids == {} and cvpr.venue.name == "CVPR" and cvpr.code_links == ["https://github.com/GuoShi28/CBDNet"]
    assert [a.name for a in cvpr.authors] == ["Shi Guo", "Zifei Yan", "Kai Zhang", "Wangmeng Zuo", "Lei Zhang"]


def test_code_links_bad_lines() -> None:
    data = (b'{"conference_file": "icml/icml2019.json", "title": "T", "author": "A B", "github": "github.com/o/r"}\n'
            b'{"conference_file": "icml/icml2019.json", "title": "T", "github": ["not", "a", "string"]}\n'
            b'{"conference_file": "icml/icml2019.json", "github": "github.com/o/r"}\n')
    sink = ErrorSink(echo=False)
    records = list(CodeLinksReader().read(io.BytesIO(data), "links.jsonl", sink))
    assert [r.code_links for r in records] == [["https://github.com/o/r"]]
    assert [m.split(": ")[0] for m in sink.messages] == ["links.jsonl:2", "links.jsonl:3"]
