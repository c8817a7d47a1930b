"""``paperatlas check identities``: what the live store's identities say about themselves that cannot be true.

The benchmark scores the model on labelled sets; this reads the identities a user actually sees and reports the
faults a reader would catch by looking: an authorship whose written given name cannot be its identity's person
("Xin Wang" on Xinggang Wang's profile), one identity holding two written given names that cannot be one person's,
two ORCIDs or two DBLP homonym numbers in one identity, and an identity whose stored paper count disagrees with its
paper list (or with the metrics stage's count, where that stage has run).  The given-name rule is the clustering's
own (:func:`names.given_compatible`), read over the identity's name as written and swapped, so a store built by
the stage comes out clean and one built by an older rule, or bent by curation, shows where.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..normalize import split_homonym
from ..store import Store
from .names import NameParts, given_compatible, given_key, parts_of, query_parts

EXAMPLES = 20  # each list shows this many cases; the counts are complete


def _readings(name: str) -> list[NameParts]:
    """The identity's display name as written and swapped ("Zhang Jun"): a store may hold either order."""
    return query_parts(split_homonym(name)[0])


def _fits(written: NameParts, readings: list[NameParts]) -> bool:
    return any(given_compatible(given_key(written), given_key(r)) for r in readings)


def check_identities(store: Store) -> dict[str, Any]:
    """Every finding in the store's identities, as counts and the first :data:`EXAMPLES` cases of each kind."""
    db = store.db
    identities = {int(i): (aid, name, int(count or 0)) for i, aid, name, count in db.query_tuples(
        "SELECT id, aid, name, paper_count FROM identities")}
    rows = db.query_tuples(
        "SELECT id, paper_id, name, forenames, surname, orcid, dblp_homonym, identity_id FROM authorships "
        "WHERE identity_id IS NOT NULL ORDER BY identity_id, id")
    incompatible: list[dict[str, Any]] = []
    papers: dict[int, set[int]] = defaultdict(set)
    orcids: dict[int, set[str]] = defaultdict(set)
    homonyms: dict[int, set[str]] = defaultdict(set)
    given: dict[int, dict[tuple[str, str, str], str]] = defaultdict(dict)
    by_identity: dict[int, list[tuple]] = defaultdict(list)
    for row in rows:
        by_identity[int(row[7])].append(row)
    for identity, group in by_identity.items():
        display = identities.get(identity, ("?", "", 0))[1]
        # the display name is one of the identity's written names: read it as its source parsed it, and swapped
        readings = [parts_of(name or "", fore, sur) for _, _, name, fore, sur, *_ in group
                    if split_homonym(name or "")[0] == display][:1] + _readings(display)
        for authorship, paper, name, fore, sur, orcid, homonym, _ in group:
            papers[identity].add(int(paper))
            if orcid:
                orcids[identity].add(orcid)
            number = homonym or split_homonym(name or "")[1]
            if number:
                homonyms[identity].add(number)
            written = parts_of(name or "", fore, sur)
            if written.first_is_initial:
                continue
            given[identity].setdefault(given_key(written), name)
            if identity in identities and not _fits(written, readings):
                incompatible.append({"authorship": int(authorship), "paper": int(paper), "written": name,
                                     "identity": identities[identity][0], "identity_name": display})
    mixed = []
    for identity, keys in given.items():
        spelled = list(keys.items())
        clash = next(((a, b) for k, (ka, a) in enumerate(spelled) for kb, b in spelled[k + 1:]
                      if not given_compatible(ka, kb)), None)
        if clash is not None:
            mixed.append({"identity": identities.get(identity, ("?",))[0], "names": list(clash)})
    metrics = _metric_counts(store)
    mismatched = []
    for identity, (aid, name, stored) in identities.items():
        listed = len(papers.get(identity, ()))
        figures = {"paper_count": stored} | ({"metrics_paper_count": metrics[identity]} if identity in metrics else {})
        if any(value != listed for value in figures.values()):
            mismatched.append({"identity": aid, "name": name, "papers_listed": listed, **figures})
    two_orcids = [{"identity": identities.get(i, ("?",))[0], "orcids": sorted(v)} for i, v in orcids.items()
                  if len(v) > 1]
    two_homonyms = [{"identity": identities.get(i, ("?",))[0], "dblp_homonyms": sorted(v)}
                    for i, v in homonyms.items() if len(v) > 1]
    found = {"incompatible_authorships": incompatible, "mixed_given_names": mixed, "two_orcids": two_orcids,
             "two_dblp_homonyms": two_homonyms, "figures_disagree": mismatched}
    report: dict[str, Any] = {"identities": len(identities), "authorships_checked": len(rows)}
    for kind, cases in found.items():
        report[kind] = {"count": len(cases), "examples": cases[:EXAMPLES]}
    report["problems"] = sum(len(cases) for cases in found.values())
    return report


def _metric_counts(store: Store) -> dict[int, int]:
    """The metrics stage's paper count per identity, where that stage has run (its table may be empty)."""
    return {int(i): int(c) for i, c in store.db.query_tuples("SELECT identity_id, paper_count FROM author_metrics")}
