"""Where a paper can be read: the links a paper page shows, built from the source ids the store holds.

Only ids whose scheme has a public landing page become links; each link says what it is ("arXiv", "PDF", "DOI",
"ACL Anthology") rather than showing the raw identifier as text.
"""

from __future__ import annotations

from urllib.parse import quote


def paper_links(ids: dict[str, str], code_links: list[str]) -> list[dict[str, str]]:
    """``[{"label", "url", "kind"}]`` in reading order: abstract pages, PDFs, DOI, other catalogues, code."""
    out: list[dict[str, str]] = []
    if ids.get("arxiv"):
        arxiv = quote(ids["arxiv"], safe="./")
        out += [{"label": f"arXiv:{ids['arxiv']}", "url": f"https://arxiv.org/abs/{arxiv}", "kind": "abs"},
                {"label": "PDF (arXiv)", "url": f"https://arxiv.org/pdf/{arxiv}", "kind": "pdf"}]
    if ids.get("acl"):
        acl = quote(ids["acl"], safe=".-")
        out += [{"label": "ACL Anthology", "url": f"https://aclanthology.org/{acl}/", "kind": "abs"},
                {"label": "PDF (ACL Anthology)", "url": f"https://aclanthology.org/{acl}.pdf", "kind": "pdf"}]
    if ids.get("doi"):
        out.append({"label": f"DOI {ids['doi']}", "url": f"https://doi.org/{quote(ids['doi'], safe='/:.()-_;')}",
                    "kind": "doi"})
    if ids.get("dblp"):
        out.append({"label": "DBLP", "url": f"https://dblp.org/rec/{quote(ids['dblp'], safe='/')}",
                    "kind": "catalogue"})
    if ids.get("openalex"):
        out.append({"label": "OpenAlex", "url": f"https://openalex.org/{quote(ids['openalex'], safe='')}",
                    "kind": "catalogue"})
    if ids.get("s2"):
        s2 = quote(ids["s2"], safe="")
        out.append({"label": "Semantic Scholar", "url": f"https://www.semanticscholar.org/paper/{s2}",
                    "kind": "catalogue"})
    for url in code_links:
        if url.startswith(("https://", "http://")):
            out.append({"label": url.split("://", 1)[1].removeprefix("www."), "url": url, "kind": "code"})
    return out


__all__ = ["paper_links"]
