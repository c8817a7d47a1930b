"""Finding links to code (GitHub, GitLab, Bitbucket, Hugging Face) in abstracts, comments and source records.

The ``Code`` badge means "there is a repository": a project page (``*.github.io``), a paper page on Hugging Face
or a GitHub feature page is not code.  Authors write links every way there is (``github.com/org/repo``,
``https://www.github.com/org/repo.git``, ``https://github.com/org`` for a whole organisation, with a trailing
full stop or closing bracket from the sentence), so every link found is normalized to
``https://host/owner[/repo]`` before it is kept; two spellings of one repository become one link.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_HOSTS = {
    "github.com": "github.com",
    "gitlab.com": "gitlab.com",
    "bitbucket.org": "bitbucket.org",
    "huggingface.co": "huggingface.co",
    "hf.co": "huggingface.co",
}

_URL = re.compile(
    r"(?:https?://)?(?:www\.)?(github\.com|gitlab\.com|bitbucket\.org|huggingface\.co|hf\.co)"
    r"(/[^\s<>\"'{}|\\^`\[\]]*)?",
    re.IGNORECASE,
)

# First path segments that are GitHub/GitLab/HF pages, not an owner.
_NOT_OWNERS = frozenset(
    {"about", "apps", "blog", "collections", "contact", "customer-stories", "docs", "enterprise", "explore",
     "features", "join", "login", "marketplace", "new", "notifications", "pricing", "pulls", "issues", "search",
     "security", "settings", "signup", "site", "sponsors", "topics", "trending", "users", "help", "papers",
     "learn", "tasks", "welcome", "posts", "chat"}
)
_HF_KINDS = frozenset({"datasets", "spaces"})
# "github.com:org/repo" (the SSH spelling, also in git@github.com:org/repo.git) is read as "github.com/org/repo".
_SSH = re.compile(r"(github\.com|gitlab\.com|bitbucket\.org):(?=[A-Za-z0-9])", re.IGNORECASE)
_TRAILING = ".,;:!?)]}>'\"*"


def _owner_repo(segments: list[str]) -> list[str]:
    cleaned: list[str] = []
    for seg in segments:
        seg = seg.strip().rstrip(_TRAILING)
        if not seg or seg == "-":
            break
        cleaned.append(seg)
    return cleaned


def normalize_code_link(raw: str) -> str | None:
    """``https://host/owner/repo`` (or ``https://host/owner`` for an organisation) from any spelling, or None
    when the link is not a repository (a github.io page, a GitHub feature page, a Hugging Face paper page)."""
    raw = _SSH.sub(r"\1/", raw.strip())
    match = _URL.search(raw)
    if not match:
        return None
    start = match.start()
    if start > 0 and (raw[start - 1].isalnum() or raw[start - 1] in ".-"):
        return None  # "foo.github.com" or "notgithub.com"
    host = _HOSTS[match.group(1).lower()]
    path = (match.group(2) or "").split("?", 1)[0].split("#", 1)[0]
    segments = _owner_repo(path.split("/")[1:])
    if segments and segments[0].lower() == "orgs":  # github.com/orgs/NAME/repositories
        segments = segments[1:2]
    if not segments or segments[0].lower() in _NOT_OWNERS:
        return None
    if host == "huggingface.co":
        kind = ""
        if segments[0].lower() in _HF_KINDS:
            kind, segments = segments[0].lower() + "/", segments[1:]
        if len(segments) < 2:  # an HF user page is not a repository
            return None
        return f"https://huggingface.co/{kind}{segments[0]}/{segments[1]}"
    if host == "gitlab.com":  # GitLab nests groups: keep every segment before "/-/"
        keep = segments[:4]
        for stop in ("tree", "blob", "issues", "wikis", "merge_requests"):
            if stop in keep:
                keep = keep[: keep.index(stop)]
    else:
        keep = segments[:2]
    keep[-1] = re.sub(r"\.git$", "", keep[-1], flags=re.IGNORECASE)
    if keep[-1].lower().endswith(".github.io") or not keep[-1]:
        return None  # the source of a project page, not code
    if host != "gitlab.com" and len(segments) > 4 and segments[2].lower() in ("tree", "blob", "src"):
        keep = segments[:12]  # a folder of a monorepo (google-research/google-research/tree/master/x) is the code
    owner = keep[0]
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._\-]*", owner):
        return None
    return f"https://{host}/" + "/".join(keep)


def mentions_code_host(lowered: str) -> bool:
    """The cheap test in front of the regexes, which most abstracts (no code host at all) never reach: five plain
    substring tests, measured 10x cheaper than one case-insensitive regex alternation and half the cost of any()
    over a generator."""
    return ("github" in lowered or "gitlab" in lowered or "bitbucket" in lowered or "huggingface" in lowered
            or "hf.co" in lowered)


def find_code_links(*texts: str | None) -> list[str]:
    """Every distinct repository link in ``texts``, normalized, in order of first appearance."""
    found: list[str] = []
    seen: set[str] = set()
    for text in texts:
        if not text:
            continue
        if not mentions_code_host(text.lower()):
            continue
        text = _SSH.sub(r"\1/", text)
        for match in _URL.finditer(text):
            before = text[match.start() - 1] if match.start() > 0 else " "
            if before.isalnum() or before in ".-":  # "x.github.com", "notgithub.com"
                continue
            link = normalize_code_link(match.group(0))
            if link and link.lower() not in seen:
                seen.add(link.lower())
                found.append(link)
    return found


def merge_links(*groups: Iterable[str]) -> list[str]:
    """Union of link lists, first spelling wins (GitHub owners and repositories are case-insensitive)."""
    out: list[str] = []
    seen: set[str] = set()
    for group in groups:
        for link in group:
            if link.lower() not in seen:
                seen.add(link.lower())
                out.append(link)
    return out
