"""Rebuild demo/corpus/ from ../shared/data: a few thousand real records, chosen so every page has content.

Run from the repository root: ``python scripts/make_demo_corpus.py [SHARED_DATA_DIR]``.  The choice is
deterministic, so the committed corpus can be checked against it.  What is taken and why:

- arXiv API Atom pages of Dec 2025 (500 cs papers): recent papers for the trending feed and digests;
- two OAI-PMH pages of the 2016 cs harvest (~2,000 papers with abstracts): history for novelty and search;
- the DBLP fragment with homonym numbers (``Jun Wang 0006``): name clusters that hold several people;
- the ACL Anthology Network papers most cited inside the network, and the edges among them: citation counts and
  h-indexes that mean something on author pages;
- code links of NAACL 2024 papers (abstracts + GitHub links): the Code badge;
- an OpenAlex works page and one work: OpenAlex's inverted abstracts and authorships with ORCIDs.
"""

from __future__ import annotations

import re
import shutil
import sys
from collections import Counter
from pathlib import Path

ACL_PAPERS = 1500
CODE_LINK_ROWS = 300


def main() -> None:
    repo = Path(__file__).resolve().parents[1]
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else repo.parent / "shared" / "data"
    out = repo / "demo" / "corpus"
    if out.exists():
        shutil.rmtree(out)
    for sub in ("arxiv-atom", "arxiv-oai", "dblp", "acl", "code-links", "openalex"):
        (out / sub).mkdir(parents=True)

    for page in sorted((shared / "arxiv/atom-api/cs-2025-12").glob("*.atom.xml")):
        shutil.copy(page, out / "arxiv-atom" / page.name)
    for name in ("page001.xml.gz", "page002.xml.gz"):
        shutil.copy(shared / "arxiv/oai-pmh-cs-2016" / name, out / "arxiv-oai" / name)
    shutil.copy(shared / "dblp/dblp-sample.xcurator.xml", out / "dblp")
    shutil.copy(shared / "openalex/api-responses-openalexPro/keypaper_results_page_1.json", out / "openalex")
    shutil.copy(shared / "openalex/entities/W2741809807.json", out / "openalex")

    # ACL Anthology Network: the papers most cited inside the network, with every edge among them.
    acl = shared / "citations/acl-anthology-network"
    edges: list[tuple[str, str, str]] = []  # (citing, cited, the line as written)
    for line in (acl / "acl.txt").read_text(encoding="utf-8", errors="replace").splitlines():
        parts = re.split(r"\s*(?:==>|,)\s*", line.strip())
        if len(parts) == 2 and all(parts):
            edges.append((parts[0], parts[1], line))
    indegree = Counter(cited for _, cited, _ in edges)
    chosen = {pid for pid, _ in indegree.most_common(ACL_PAPERS)}
    blocks = (acl / "acl-metadata.txt").read_text(encoding="utf-8", errors="replace").split("\n\n")
    kept = [b for b in blocks if (m := re.search(r"id = \{([^}]*)\}", b)) and m.group(1) in chosen]
    (out / "acl" / "acl-metadata.txt").write_text("\n\n".join(kept) + "\n", encoding="utf-8")
    kept_edges = [line for a, b, line in edges if a in chosen and b in chosen]
    (out / "acl" / "acl.txt").write_text("\n".join(kept_edges) + "\n", encoding="utf-8")

    rows = [line for line in (shared / "code-links/paper_code_links.jsonl").read_text(encoding="utf-8").splitlines()
            if '"naacl/naacl2024.json"' in line]
    (out / "code-links" / "paper_code_links.jsonl").write_text("\n".join(rows[:CODE_LINK_ROWS]) + "\n",
                                                                encoding="utf-8")
    print(f"demo corpus written to {out}: {len(kept)} ACL papers, {len(kept_edges)} ACL edges, "
          f"{min(len(rows), CODE_LINK_ROWS)} code-link rows")


if __name__ == "__main__":
    main()
