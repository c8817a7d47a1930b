"""Pairwise evidence, vectorized: every mention's bag of coauthors / title words / venue / affiliation words is a
sparse row, and a pair's feature is a row-wise product, so millions of pairs cost a few numpy calls.

The features follow S2AND's families (name compatibility, coauthor overlap, topic similarity, venue,
affiliation, years, name frequency) restricted to what our sources carry.  Missing evidence is NaN, which
LightGBM treats as "unknown" rather than "different".
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from itertools import chain, count
from operator import attrgetter
from typing import Any, ClassVar

import numpy as np
from scipy import sparse

from ..normalize import ascii_fold
from . import name_counts
from .mentions import Mention, name_parts
from .names import NameParts, coauthor_key, fold, given_key

FEATURES: list[str] = [
    "first_same",  # both full first names and equal
    "first_initial",  # at least one side gives only an initial
    "middle",  # +1 middle initials agree, -1 disagree, 0 unknown
    "coauthor_shared",
    "coauthor_jaccard",
    "title_cos",
    "venue_cos",
    "venue_same",
    "affil_cos",
    "year_gap",
    "n_authors_min",
    "n_authors_max",
    "coauthor_min",  # number of coauthors known on the sparser side
    "surname_count",  # log corpus-wide counts (shipped name_counts): common names need more evidence
    "first_count",
    "full_count",
    "coauthor_full_shared",  # coauthors shared by full written name (stricter than surname + initial)
    "coauthor_idf",  # shared coauthor keys weighted by rarity: a rare collaborator says more than "Wang X"
]

_STOP = frozenset({
    "a", "an", "and", "are", "as", "at", "by", "for", "from", "in", "into", "is", "of", "on", "or", "the", "to",
    "with", "via", "using", "based", "towards", "toward", "under", "its", "their", "new", "approach", "method",
    "methods", "study", "analysis",
})


def _ids(items: list[Hashable]) -> tuple[np.ndarray, dict[Hashable, int]]:
    """Each item's position among the distinct items in order of first appearance, and that vocabulary.

    ``dict.fromkeys`` and ``map`` walk the list in C: on a whole corpus (millions of coauthor slots) a
    comprehension calling ``setdefault`` per item cost several times more."""
    vocab = dict(zip(dict.fromkeys(items), count()))
    return np.fromiter(map(vocab.__getitem__, items), dtype=np.int64, count=len(items)), vocab


def _first_positions(index: np.ndarray, k: int) -> np.ndarray:
    """For ids 0..k-1 (each present in ``index``), the position where each first occurs."""
    first = np.zeros(k, dtype=np.int64)
    first[index[::-1]] = np.arange(len(index) - 1, -1, -1)
    return first


def _row_lengths(rows: list[list[str]] | list[tuple[str, ...]]) -> np.ndarray:
    return np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))


def _bag(rows: list[list[str]]) -> sparse.csr_matrix:
    indices, vocab = _ids(list(chain.from_iterable(rows)))
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    np.cumsum(_row_lengths(rows), out=indptr[1:])
    data = np.ones(len(indices), dtype=np.float32)
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(rows), max(len(vocab), 1)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0  # presence, not counts
    return matrix


def _tfidf(matrix: sparse.csr_matrix) -> sparse.csr_matrix:
    """Binary bag -> idf-weighted, L2-normalized rows (idf from this corpus: rare shared words say more)."""
    n = matrix.shape[0]
    df = np.bincount(matrix.indices, minlength=matrix.shape[1]).astype(np.float32)
    idf = np.log((1.0 + n) / (1.0 + df)) + 1.0
    weighted = matrix.multiply(idf[None, :]).tocsr() if matrix.nnz else matrix
    norms = np.sqrt(np.asarray(weighted.multiply(weighted).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.diags((1.0 / norms).astype(np.float32)) @ weighted


_WORD = re.compile(r"[a-z][a-z0-9]{2,}")


def _words(text: str) -> list[str]:
    """Content words, crudely stemmed to 7 letters ("clustering"/"clusters" meet at "cluster")."""
    if not text:
        return []
    folded = text.lower() if text.isascii() else ascii_fold(text)
    return [w[:7] for w in _WORD.findall(folded) if w not in _STOP]


@dataclass
class Evidence:
    """Per-mention evidence of one corpus, ready for row-wise pair products."""

    parts: list[NameParts]
    coauthors: sparse.csr_matrix
    coauthor_counts: np.ndarray
    titles: sparse.csr_matrix
    has_title: np.ndarray
    venues: sparse.csr_matrix
    has_venue: np.ndarray
    venue_ids: np.ndarray  # exact venue id, -1 unknown
    affils: sparse.csr_matrix
    has_affil: np.ndarray
    years: np.ndarray
    n_authors: np.ndarray
    first_ids: np.ndarray  # id of the folded first forename within this corpus
    given_ids: np.ndarray  # id of the given-name reading (names.given_key) within this corpus: the hard rule's unit
    first_initial: np.ndarray  # bool: only an initial is known
    middle_code: np.ndarray  # code point of the first middle initial, 0 when none
    surname_count: np.ndarray
    first_count: np.ndarray  # NaN for an initial
    full_count: np.ndarray
    coauthors_full: sparse.csr_matrix
    coauthor_idf: sparse.csr_matrix
    title_index: np.ndarray  # per mention, its title's position in ``distinct_titles``
    distinct_titles: tuple[str, ...]  # embedded into topic vectors only where the seed stage needs them

    # corpus-wide fields: a slice of the evidence (a chunk of blocks) keeps them whole
    CORPUS_WIDE: ClassVar[frozenset[str]] = frozenset({"distinct_titles"})

    def take(self, rows: np.ndarray) -> Evidence:
        """The evidence of some mentions (a share of the blocks), corpus statistics kept: each row's vectors were
        weighted over the whole corpus, so these mentions are scored as within it."""
        n = len(self.parts)
        values = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            size = len(value) if isinstance(value, list) else getattr(value, "shape", (None,))[0]
            if size != n or f.name in self.CORPUS_WIDE:
                values[f.name] = value  # not per mention: every share gets all of it
            elif isinstance(value, list):
                values[f.name] = [value[i] for i in rows.tolist()]
            else:
                values[f.name] = value[rows]
        return type(self)(**values)

    @classmethod
    def build(cls, mentions: list[Mention], parts: list[NameParts] | None = None,
              prepared: tuple[dict[str, Any], CoauthorSlots] | Callable[[], tuple[dict[str, Any], CoauthorSlots]]
              | None = None) -> Evidence:
        """``prepared``: :func:`prepare` of these mentions, where the caller has it already (it needs no name
        folding, so ``parallel.py`` builds it in a worker while this process folds the names), or a function
        that waits for it: the name fields are built first, while the worker may still be busy."""
        parts = parts if parts is not None else name_parts(mentions)
        n = len(mentions)
        # Name fields are computed once per distinct NameParts (parts_of hands equal names one shared object).
        part_index, part_vocab = _ids(list(map(id, parts)))
        names = [parts[i] for i in _first_positions(part_index, len(part_vocab)).tolist()]
        first_vocab: dict[str, int] = {}
        given_vocab: dict[tuple[str, str, str], int] = {}
        counts = name_counts.shipped()
        last_c, first_c, full_c = counts["last"], counts["first"], counts["full"]
        name_fields = dict(
            first_ids=np.array([first_vocab.setdefault(p.first, len(first_vocab)) for p in names],
                               dtype=np.int64)[part_index],
            given_ids=np.array([given_vocab.setdefault(given_key(p), len(given_vocab)) for p in names],
                               dtype=np.int64)[part_index],
            first_initial=np.array([p.first_is_initial for p in names], dtype=bool)[part_index],
            middle_code=np.array([ord(p.middle[0]) if p.middle else 0 for p in names], dtype=np.int32)[part_index],
            surname_count=np.log1p(np.array([last_c.get(p.surname, 0) for p in names], dtype=np.float32))[part_index],
            first_count=np.array([np.nan if p.first_is_initial else math.log1p(first_c.get(p.first, 0))
                                  for p in names], dtype=np.float32)[part_index],
            full_count=np.array([np.nan if p.first_is_initial else math.log1p(full_c.get(f"{p.first} {p.surname}", 0))
                                 for p in names], dtype=np.float32)[part_index],
        )
        if prepared is None:
            prepared = prepare(mentions)
        text_fields, slots = prepared() if callable(prepared) else prepared
        key_vocab, rows = slots.key_vocab, np.repeat(np.arange(n, dtype=np.int64), slots.row_len)
        own = np.array([key_vocab.get(p.block, -1) for p in names], dtype=np.int64)[part_index]
        co_keys = slots.keys
        keep = (co_keys > 0) & (co_keys != own[rows])
        coauthors = _presence(rows[keep], co_keys[keep], n, len(key_vocab))
        keep = slots.full > 0
        coauthors_full = _presence(rows[keep], slots.full[keep], n, slots.n_full)
        df = np.bincount(coauthors.indices, minlength=coauthors.shape[1]).astype(np.float32)
        co_idf = coauthors.multiply(np.log((1.0 + n) / (1.0 + df))[None, :] ** 0.5).tocsr()
        return cls(
            **text_fields,
            **name_fields,
            parts=parts,
            coauthors=coauthors,
            coauthor_counts=np.diff(coauthors.indptr).astype(np.float32),
            coauthors_full=coauthors_full,
            coauthor_idf=co_idf,
        )


@dataclass
class CoauthorSlots:
    """Every coauthor slot of every mention (in mention order) as ints, keyed without folding the mentions' own
    names: who the coauthors are is known before blocking."""

    keys: np.ndarray  # per slot: id of the coauthor key (surname + first initial) in ``key_vocab``, 0 = none
    full: np.ndarray  # per slot: id of the folded full name, 0 = too short to tell people apart
    row_len: np.ndarray  # slots per mention
    key_vocab: dict[str, int]
    n_full: int  # full-name ids in use, 0 included


def coauthor_slots(mentions: list[Mention]) -> CoauthorSlots:
    """Each distinct coauthor string is keyed once (a name recurs once per author of its paper), then every slot
    is an int, so the bags are built with numpy instead of per-row Python lists."""
    coauthor_lists = list(map(attrgetter("coauthors"), mentions))
    occ, name_ids = _ids(list(chain.from_iterable(coauthor_lists)))
    key_vocab: dict[str, int] = {"": 0}
    full_vocab: dict[str, int] = {"": 0}
    key_of = np.zeros(len(name_ids), dtype=np.int64)
    full_of = np.zeros(len(name_ids), dtype=np.int64)
    for c, j in name_ids.items():
        key_of[j] = key_vocab.setdefault(coauthor_key(c), len(key_vocab))
        if len(c) > 4:
            full_of[j] = full_vocab.setdefault(fold(c).replace(".", "").replace(" ", ""), len(full_vocab))
    return CoauthorSlots(keys=key_of[occ], full=full_of[occ], row_len=_row_lengths(coauthor_lists),
                         key_vocab=key_vocab, n_full=len(full_vocab))


def prepare(mentions: list[Mention]) -> tuple[dict[str, Any], CoauthorSlots]:
    """Everything of the evidence that needs no name folding: what the papers say and who the coauthors are."""
    return paper_text_fields(mentions), coauthor_slots(mentions)


def paper_text_fields(mentions: list[Mention]) -> dict[str, Any]:
    """What the papers say (titles, venues, affiliations, years, author counts), keyed by the :class:`Evidence`
    fields they fill.  Titles and venues are per paper: each distinct one is bagged once (idf over papers), then
    indexed per mention."""
    # A paper's authors share its title and venue: look each paper up once.
    paper_index, paper_ids = _ids(list(map(attrgetter("paper"), mentions)))
    papers = [mentions[i] for i in _first_positions(paper_index, len(paper_ids)).tolist()]
    title_index, title_ids = _ids(list(map(attrgetter("title"), papers)))
    title_index = title_index[paper_index]
    title_rows = [_words(t) for t in title_ids]
    venue_index, venue_keys = _ids(list(zip(map(attrgetter("venue"), papers),
                                            map(tuple, map(attrgetter("categories"), papers)), strict=True)))
    venue_index = venue_index[paper_index]
    venue_rows = [_words(v) + [c.lower() for c in cats] for v, cats in venue_keys]
    affil_rows = [_words(" ".join(m.affiliations)) if m.affiliations else [] for m in mentions]
    venue_vocab: dict[str, int] = {}
    venue_ids = np.array(
        [venue_vocab.setdefault(fold(m.venue).strip(), len(venue_vocab)) if m.venue else -1
         for m in papers], dtype=np.int64)[paper_index]
    return {
        "titles": _tfidf(_bag(title_rows))[title_index],
        "has_title": np.array([bool(r) for r in title_rows], dtype=bool)[title_index],
        "venues": _tfidf(_bag(venue_rows))[venue_index],
        "has_venue": np.array([bool(r) for r in venue_rows], dtype=bool)[venue_index],
        "venue_ids": venue_ids,
        "affils": _tfidf(_bag(affil_rows)),
        "has_affil": np.array([bool(r) for r in affil_rows]),
        "years": np.array([m.year if m.year else np.nan for m in mentions], dtype=np.float32),
        "n_authors": np.maximum(np.fromiter(map(attrgetter("n_authors"), mentions), np.int64, len(mentions)),
                                _row_lengths(list(map(attrgetter("coauthors"), mentions))) + 1).astype(np.float32),
        "title_index": title_index,
        "distinct_titles": tuple(title_ids),
    }


def _presence(rows: np.ndarray, cols: np.ndarray, n: int, width: int) -> sparse.csr_matrix:
    """0/1 CSR matrix with a one at every (row, col) given (duplicates count once)."""
    matrix = sparse.csr_matrix((np.ones(len(rows), dtype=np.float32), (rows, cols)), shape=(n, max(width, 1)))
    matrix.sum_duplicates()
    matrix.data[:] = 1.0
    return matrix


def _rowdot(matrix: sparse.csr_matrix, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Row-wise dot products; pairs with an empty row on either side are 0 without being gathered (most
    mentions have no affiliation, solo papers no coauthor)."""
    if matrix.nnz == 0 or len(left) == 0:
        return np.zeros(len(left), dtype=np.float32)
    filled = np.diff(matrix.indptr) > 0
    both = filled[left] & filled[right]
    if not both.all():
        out = np.zeros(len(left), dtype=np.float32)
        out[both] = _rowdot(matrix, left[both], right[both])
        return out
    return np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1), dtype=np.float32).ravel()


def pair_features(ev: Evidence, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Feature matrix (len(left) x len(FEATURES)) for the mention pairs (left[k], right[k])."""
    n = len(left)
    out = np.zeros((n, len(FEATURES)), dtype=np.float32)
    if n == 0:
        return out
    init_l, init_r = ev.first_initial[left], ev.first_initial[right]
    out[:, 0] = (ev.first_ids[left] == ev.first_ids[right]) & ~init_l & ~init_r
    out[:, 1] = init_l | init_r
    ml, mr = ev.middle_code[left], ev.middle_code[right]
    out[:, 2] = np.where((ml == 0) | (mr == 0), 0, np.where(ml == mr, 1, -1))
    shared = _rowdot(ev.coauthors, left, right)
    union = ev.coauthor_counts[left] + ev.coauthor_counts[right] - shared
    out[:, 3] = shared
    out[:, 4] = np.divide(shared, union, out=np.zeros_like(shared), where=union > 0)
    # a missing title or venue is unknown (NaN), not "dissimilar": S2AND-Qian has neither
    out[:, 5] = np.where(ev.has_title[left] & ev.has_title[right], _rowdot(ev.titles, left, right), np.nan)
    out[:, 6] = np.where(ev.has_venue[left] & ev.has_venue[right], _rowdot(ev.venues, left, right), np.nan)
    vl, vr = ev.venue_ids[left], ev.venue_ids[right]
    out[:, 7] = np.where((vl < 0) | (vr < 0), np.nan, (vl == vr).astype(np.float32))
    affil = _rowdot(ev.affils, left, right)
    out[:, 8] = np.where(ev.has_affil[left] & ev.has_affil[right], affil, np.nan)
    out[:, 9] = np.abs(ev.years[left] - ev.years[right])
    na_l, na_r = ev.n_authors[left], ev.n_authors[right]
    out[:, 10] = np.minimum(na_l, na_r)
    out[:, 11] = np.maximum(na_l, na_r)
    out[:, 12] = np.minimum(ev.coauthor_counts[left], ev.coauthor_counts[right])
    out[:, 13] = ev.surname_count[left]
    out[:, 14] = np.fmax(ev.first_count[left], ev.first_count[right])
    out[:, 15] = np.fmax(ev.full_count[left], ev.full_count[right])
    out[:, 16] = _rowdot(ev.coauthors_full, left, right)
    out[:, 17] = _rowdot(ev.coauthor_idf, left, right)
    # pairs that reach the model passed the given-name hard rule, so two different written names here are variants
    return out
