"""The clustering's fast paths give exactly what the plain code they replace gives, on real names and real
blocks (the speed target of the identities stage rests on them; a fast path may never change a partition)."""

from __future__ import annotations

import numpy as np
import pytest

from paperatlas.disambiguation.blocking import MAX_BLOCK, blocks_of, candidate_pairs, codes, swap_aware_blocks
from paperatlas.disambiguation.datasets import read_all
from paperatlas.disambiguation.harvest_mentions import read_oai_mentions
from paperatlas.disambiguation.mentions import name_parts
from paperatlas.disambiguation.names import given_compatible, given_compatible_many, given_key, parts_of

# the rule's corner cases: initials, nicknames, romanizations, umlauts, joined and split syllables, no forename
WRITTEN = ["J. Steinhardt", "Jacob Steinhardt", "Jacob N. Steinhardt", "James Steinhardt", "Bill Smith",
           "William Smith", "W. Smith", "Alec Smith", "Alexander Smith", "Alex Smith", "Sergey Ivanov",
           "Sergei Ivanov", "Sergej Ivanov", "Aleksei Ivanov", "Alexei Ivanov", "Dmitry Ivanov", "Dmitrii Ivanov",
           "Jürgen Müller", "Juergen Müller", "Jurgen Müller", "Xing-Gang Wang", "Xing Gang Wang", "Xinggang Wang",
           "Xing G. Wang", "Xing Wang", "Xin Wang", "Xin Eric Wang", "Xinbing Wang", "X. Wang", "Wang",
           "Xing Ga Wang", "Xi G. Wang", "Xig Wang", "Elizabeth Jones", "Elisabeth Jones", "JN Smith", "J.-P. Serre",
           "Jean-Pierre Serre", "Jeanpierre Serre", "Jean P. Serre", "Jun Zhang", "Jing Zhang", "Zhang Jun"]


def _readings(parts) -> list[tuple[str, str, str]]:
    return sorted({given_key(p) for p in parts})


def _same_answers(readings: list[tuple[str, str, str]], x: np.ndarray, y: np.ndarray) -> int:
    fast = given_compatible_many(readings, x, y)
    slow = np.array([given_compatible(readings[a], readings[b]) for a, b in zip(x.tolist(), y.tolist(), strict=True)],
                    dtype=bool)
    wrong = np.flatnonzero(fast != slow)
    assert not len(wrong), [(readings[x[k]], readings[y[k]], bool(slow[k])) for k in wrong[:10]]
    return int(slow.sum())


def test_given_names_in_numpy_on_the_rules_corner_cases():
    readings = _readings([parts_of(n) for n in WRITTEN])
    x, y = np.divmod(np.arange(len(readings) ** 2), len(readings))  # every ordered pair
    assert 0 < _same_answers(readings, x, y) < len(x)
    assert len(given_compatible_many(readings, x[:0], y[:0])) == 0


def _pairs_to_ask(parts, rng: np.random.Generator) -> tuple[list[tuple[str, str, str]], np.ndarray, np.ndarray]:
    """Every pair of readings that meets in a live block, plus random pairs and pairs of names that share their
    first two letters (where joined syllables and nicknames are)."""
    readings = _readings(parts)
    index = {r: k for k, r in enumerate(readings)}
    ids = np.array([index[given_key(p)] for p in parts], dtype=np.int64)
    left, right, _ = candidate_pairs(blocks_of(parts, swap_aware_blocks(parts)))
    by_start: dict[str, list[int]] = {}
    for k, r in enumerate(readings):
        by_start.setdefault(r[0][:2], []).append(k)
    near = [rng.choice(group, size=(min(len(group) ** 2, 400), 2)) for group in by_start.values() if len(group) > 1]
    pairs = np.concatenate([np.stack([ids[left], ids[right]], axis=1), rng.integers(0, len(readings), (20_000, 2)),
                            *near])
    return readings, pairs[:, 0], pairs[:, 1]


def test_given_names_in_numpy_on_every_labelled_set(shared):
    rng = np.random.default_rng(17)
    for name, data in read_all(shared / "disambiguation").items():
        readings, x, y = _pairs_to_ask(name_parts(data.mentions), rng)
        assert _same_answers(readings, x, y) > 0, name


@pytest.mark.slow
def test_given_names_in_numpy_on_the_arxiv_harvest(shared):
    mentions, _ = read_oai_mentions(sorted((shared / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))[:12])
    readings, x, y = _pairs_to_ask(name_parts(mentions), np.random.default_rng(17))
    assert len(readings) > 5_000
    assert _same_answers(readings, x, y) > 0


# The plain per-item code the blocking's array versions replaced, kept here as the reference they must equal.
def _plain_swap_aware_blocks(parts) -> list[str]:
    full_counts: dict[tuple[str, str], int] = {}
    for p in parts:
        if not p.first_is_initial:
            full_counts[(p.surname, p.first)] = full_counts.get((p.surname, p.first), 0) + 1
    out = []
    for p in parts:
        key = p.block
        if (not p.first_is_initial and not p.middle
                and full_counts.get((p.first, p.surname), 0) > full_counts[(p.surname, p.first)]):
            key = f"{p.first} {p.surname[:1]}"
        out.append(key)
    return out


def _plain_blocks_of(parts, keys: list[str]) -> list[list[int]]:
    groups: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        groups.setdefault(key, []).append(i)
    out = []
    for members in groups.values():
        if len(members) <= MAX_BLOCK:
            out.append(members)
            continue
        by_first: dict[str, list[int]] = {}
        for i in members:
            by_first.setdefault(parts[i].first if not parts[i].first_is_initial else "", []).append(i)
        for sub in by_first.values():
            out.extend(sub[start : start + MAX_BLOCK] for start in range(0, len(sub), MAX_BLOCK))
    return out


def _plain_candidate_pairs(blocks) -> list[tuple[int, int, int]]:
    return [(int(m[i]), int(m[j]), b) for b, m in enumerate(blocks)
            for i in range(len(m)) for j in range(i + 1, len(m))]


def _plain_codes(values) -> list[int]:
    vocab: dict[object, int] = {}
    return [vocab.setdefault(v, len(vocab) + 1) if v else 0 for v in values]


def _blocking_equals_the_plain_code(mentions) -> None:
    parts = name_parts(mentions)
    # equal names as separate objects too: the array version must not depend on name_parts sharing them
    for names in (parts, [parts_of(m.name, m.forenames, m.surname) for m in mentions]):
        keys = swap_aware_blocks(names)
        assert keys == _plain_swap_aware_blocks(names)
    blocks = blocks_of(parts, keys)
    assert [b.tolist() for b in blocks] == _plain_blocks_of(parts, keys)
    left, right, owner = candidate_pairs(blocks)
    assert list(zip(left.tolist(), right.tolist(), owner.tolist(), strict=True)) == _plain_candidate_pairs(blocks)
    for values in ([m.paper for m in mentions], [m.orcid for m in mentions], [m.homonym for m in mentions],
                   [None] * len(mentions), [given_key(p) if not p.first_is_initial else None for p in parts]):
        assert codes(values).tolist() == _plain_codes(values)


def test_blocking_in_arrays_on_every_labelled_set(shared):
    for data in read_all(shared / "disambiguation").values():
        _blocking_equals_the_plain_code(data.mentions)


def test_blocking_in_arrays_splits_huge_blocks_as_before(shared, monkeypatch):
    from paperatlas.disambiguation import blocking

    monkeypatch.setattr(blocking, "MAX_BLOCK", 7)
    monkeypatch.setitem(globals(), "MAX_BLOCK", 7)
    data = read_all(shared / "disambiguation")["aminer-110"]
    _blocking_equals_the_plain_code(data.mentions)
    assert max(len(b) for b in blocks_of(name_parts(data.mentions), swap_aware_blocks(name_parts(data.mentions)))) == 7


@pytest.mark.slow
def test_blocking_in_arrays_on_the_arxiv_harvest(shared):
    mentions, _ = read_oai_mentions(sorted((shared / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))[:12])
    _blocking_equals_the_plain_code(mentions)


def _plain_versus_rivals(a, b, value):
    """The rival comparison as one lexsort per value (by seed, best value first), the reference for the grouped
    version the seed stage runs."""
    m = len(a)
    seed, partner = np.concatenate([a, b]), np.concatenate([b, a])
    v = np.concatenate([value, value]).astype(np.float64)
    v = np.where(np.isnan(v), -np.inf, v)
    order = np.lexsort((-v, seed))
    s_sorted, v_sorted, p_sorted = seed[order], v[order], partner[order]
    start = np.flatnonzero(np.r_[True, s_sorted[1:] != s_sorted[:-1]])
    count = np.diff(np.r_[start, len(order)])
    best = np.full(int(seed.max()) + 1, -np.inf)
    second = np.full(len(best), -np.inf)
    best_partner = np.full(len(best), -1, dtype=np.int64)
    best[s_sorted[start]] = v_sorted[start]
    best_partner[s_sorted[start]] = p_sorted[start]
    two = start[count > 1]
    second[s_sorted[two]] = v_sorted[two + 1]
    rival = np.where(best_partner[seed] == partner, second[seed], best[seed])
    with np.errstate(invalid="ignore"):
        diff = np.where(np.isfinite(rival) & np.isfinite(v), v - rival, np.nan)
    return np.fmin(diff[:m], diff[m:]).astype(np.float32), np.fmax(diff[:m], diff[m:]).astype(np.float32)


def test_rival_comparison_grouped_once_equals_one_sort_per_value(shared):
    from paperatlas.disambiguation.clustering import score, seeds_of
    from paperatlas.disambiguation.pairmodel import shipped_model
    from paperatlas.disambiguation.seeds import _RIVALLED, SEED_FEATURES, _BySeed, _versus_rivals, seed_pairs

    data = read_all(shared / "disambiguation")["aminer-110"]
    scored = score(data.mentions, shipped_model())
    pairs = seed_pairs(scored.left, scored.right, scored.dist, scored.bounds, seeds_of(scored, 0.1), scored.evidence)
    free = ~pairs.cannot
    a, b, x = pairs.a[free], pairs.b[free], pairs.x[free]
    assert len(a) > 1000
    by_seed = _BySeed.of(a, b)
    rng = np.random.default_rng(17)
    values = [x[:, SEED_FEATURES.index(f)] for f in _RIVALLED]
    values.append(rng.choice(np.array([0.1, 0.5, np.nan], dtype=np.float32), len(a)))  # many ties and unknowns
    for value in values:
        for got, want in zip(_versus_rivals(a, b, value, by_seed), _plain_versus_rivals(a, b, value), strict=True):
            assert np.array_equal(got, want, equal_nan=True)


def test_surname_fast_path_folds_real_surnames_as_surname_key(shared):
    from paperatlas.disambiguation.names import fast_surname_key
    from paperatlas.normalize import parse_name, surname_key

    mentions, _ = read_oai_mentions(sorted((shared / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))[:4])
    for data in read_all(shared / "disambiguation").values():
        mentions.extend(data.mentions)
    surnames = {m.surname or parse_name(m.name)[1] or "" for m in mentions}
    surnames |= {c.split(" ")[-1] for m in mentions for c in m.coauthors}  # what coauthor_key hands it
    surnames |= {"van der Berg", "O'Brien", "Müller-Lüdenscheidt", "de", "Smith2", "SMITH", "d'Alembert", ""}
    assert len(surnames) > 5_000
    assert [fast_surname_key(s) for s in sorted(surnames)] == [surname_key(s) for s in sorted(surnames)]


def test_given_readings_and_their_codes_equal_the_per_mention_code(shared):
    from paperatlas.disambiguation.clustering import given_readings, written_given_codes
    from paperatlas.disambiguation.features import Evidence

    for data in read_all(shared / "disambiguation").values():
        parts = name_parts(data.mentions)
        plain = [None if p.first_is_initial else given_key(p) for p in parts]
        assert given_readings(parts) == plain
        ev = Evidence.build(data.mentions, parts)
        assert written_given_codes(ev).tolist() == _plain_codes(plain)
        rows = np.flatnonzero(np.arange(len(parts)) % 3 == 1)  # a share of a corpus keeps the corpus's ids
        assert written_given_codes(ev.take(rows)).tolist() == _plain_codes([plain[i] for i in rows.tolist()])


def test_paper_fields_read_with_attrgetter_equal_the_per_mention_code(shared):
    from paperatlas.disambiguation.features import paper_text_fields

    for data in read_all(shared / "disambiguation").values():
        fields = paper_text_fields(data.mentions)
        plain = np.array([max(m.n_authors, len(m.coauthors) + 1) for m in data.mentions], dtype=np.float32)
        assert np.array_equal(fields["n_authors"], plain)
        titles = [m.title for m in data.mentions]
        assert [fields["distinct_titles"][t] for t in fields["title_index"].tolist()] == titles


def test_pair_features_skipping_empty_rows_are_bitwise_the_plain_products(shared, monkeypatch):
    from paperatlas.disambiguation import features
    from paperatlas.disambiguation.features import Evidence, pair_features

    def plain_rowdot(matrix, left, right):
        if matrix.nnz == 0 or len(left) == 0:
            return np.zeros(len(left), dtype=np.float32)
        return np.asarray(matrix[left].multiply(matrix[right]).sum(axis=1), dtype=np.float32).ravel()

    mentions, _ = read_oai_mentions(sorted((shared / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))[:2])
    for data in [*read_all(shared / "disambiguation").values(), mentions]:
        ms = data if isinstance(data, list) else data.mentions
        parts = name_parts(ms)
        left, right, _ = candidate_pairs(blocks_of(parts, swap_aware_blocks(parts)))
        ev = Evidence.build(ms, parts)
        fast = pair_features(ev, left, right)
        with monkeypatch.context() as patch:
            patch.setattr(features, "_rowdot", plain_rowdot)
            plain = pair_features(ev, left, right)
        assert len(fast) > 1000 and fast.tobytes() == plain.tobytes()


def _plain_parts_of(name, forenames=None, surname=None):
    """parts_of as it was before its homonym fast path: split_homonym on every name."""
    from paperatlas.disambiguation.names import NameParts, _fold_forenames, fast_surname_key
    from paperatlas.normalize import parse_name, split_homonym

    bare, homonym = split_homonym(name or "")
    if surname is None:
        forenames, surname, _ = parse_name(bare)
    first, middle, alt = _fold_forenames(forenames or "")
    folded = fast_surname_key(surname)
    return NameParts(first=first, middle=middle, surname=folded, homonym=homonym,
                     block=f"{folded} {first[:1]}".strip(), first_is_initial=len(first) <= 1, first_alt=alt)


def test_names_fold_as_before_the_homonym_fast_path(shared):
    mentions, _ = read_oai_mentions(sorted((shared / "arxiv" / "oai-pmh-cs-2016").glob("page*.xml.gz"))[:2])
    for data in read_all(shared / "disambiguation").values():
        mentions.extend(data.mentions)
    spellings = {(m.name, m.forenames, m.surname) for m in mentions}
    spellings |= {(m.name, None, None) for m in mentions}
    spellings |= {(n, None, None) for n in ("Jun Wang 0006", " Jun Wang 0006 ", "Jun Wang 12", "Wang, Jun 0002",
                                            "Jun Wang ٠٠٠٦", "Jun Wang²", "", "0001")}
    assert sum(1 for n, _, _ in spellings if n and n.strip()[-1:].isdigit()) >= 5
    for spelling in sorted(spellings, key=str):
        assert parts_of.__wrapped__(*spelling) == _plain_parts_of(*spelling), spelling


def test_small_linkage_ranks_equal_np_unique():
    from paperatlas.disambiguation.linkage import ranks

    rng = np.random.default_rng(17)
    for n in (1, 2, 3, 5, 40, 2500):
        values = rng.integers(0, max(2, n // 2) * 3, n).tolist()
        assert ranks(values).tolist() == np.unique(values, return_inverse=True)[1].tolist()


def _plain_link_seeds(pairs, prob, seeds, threshold):
    """link_seeds with one condensed matrix built per block in the loop, the reference for the one-scatter
    version."""
    from paperatlas.disambiguation.linkage import link
    from paperatlas.disambiguation.seeds import CANNOT

    dist = np.where(pairs.cannot, CANNOT, 1.0 - prob.astype(np.float64))
    dist = np.where(pairs.cannot | pairs.evidence, dist, 1.0)
    n_seeds = int(seeds.max()) + 1
    seed_label = np.arange(n_seeds, dtype=np.int64)
    close = dist < threshold
    bounds = np.searchsorted(pairs.block, np.arange(int(pairs.block.max()) + 2))
    next_label = n_seeds
    for blk in np.unique(pairs.block[close]).tolist():
        lo, hi = bounds[blk], bounds[blk + 1]
        local_ids = np.unique(np.concatenate([pairs.a[lo:hi], pairs.b[lo:hi]]))
        if len(local_ids) == 2:
            seed_label[pairs.b[lo]] = seed_label[pairs.a[lo]]
            continue
        position = {s: k for k, s in enumerate(local_ids.tolist())}
        k = len(local_ids)
        condensed = np.full(k * (k - 1) // 2, CANNOT)
        for a, b, d in zip(pairs.a[lo:hi].tolist(), pairs.b[lo:hi].tolist(), dist[lo:hi].tolist(), strict=True):
            i, j = sorted((position[a], position[b]))
            condensed[k * i - i * (i + 1) // 2 + (j - i - 1)] = d
        labels = link(k, condensed, threshold, "average")
        seed_label[local_ids] = labels + next_label
        next_label += int(labels.max()) + 1
    return seed_label[seeds]


def _same_partition(x: np.ndarray, y: np.ndarray) -> bool:
    _, first_x, inv_x = np.unique(x, return_index=True, return_inverse=True)
    _, first_y, inv_y = np.unique(y, return_index=True, return_inverse=True)
    return np.array_equal(first_x[inv_x], first_y[inv_y])


def test_seed_linkage_in_one_scatter_equals_one_matrix_per_block(shared):
    from paperatlas.disambiguation.clustering import score, seeds_of
    from paperatlas.disambiguation.pairmodel import shipped_model
    from paperatlas.disambiguation.seeds import link_seeds, seed_pairs

    model = shipped_model()
    for name in ("aminer-110", "s2and-qian"):
        scored = score(read_all(shared / "disambiguation")[name].mentions, model)
        seeds = seeds_of(scored, 0.1)
        pairs = seed_pairs(scored.left, scored.right, scored.dist, scored.bounds, seeds, scored.evidence)
        prob = np.zeros(len(pairs.a), dtype=np.float32)
        prob[~pairs.cannot] = model.predict_seeds(pairs.x[~pairs.cannot])
        for threshold in (0.3, model.threshold, 0.7):
            got = link_seeds(pairs, prob, seeds, threshold)
            assert _same_partition(got, _plain_link_seeds(pairs, prob, seeds, threshold)), (name, threshold)
            assert len(np.unique(got)) < len(np.unique(seeds))  # some seeds did join
