"""B3 and pairwise precision / recall / F1: how a clustering compares with the gold people."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Sequence


def b3(predicted: Sequence[object], gold: Sequence[object]) -> tuple[float, float, float]:
    """B-cubed (Bagga & Baldwin): per mention, the share of its predicted cluster that is its person
    (precision) and the share of its person that its predicted cluster holds (recall), averaged."""
    joint = Counter(zip(predicted, gold, strict=True))
    pred_size = Counter(predicted)
    gold_size = Counter(gold)
    n = len(gold)
    if n == 0:
        return 0.0, 0.0, 0.0
    precision = sum(c * c / pred_size[p] for (p, _), c in joint.items()) / n
    recall = sum(c * c / gold_size[g] for (_, g), c in joint.items()) / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def b3_of(predicted: Sequence[object], gold: Sequence[object], scored: Sequence[bool]) -> dict[str, float]:
    """B-cubed averaged over the ``scored`` mentions only, with clusters and people over *all* mentions: a
    scored mention's precision counts every other mention its cluster holds, scored or not.  So a pooled run can
    cluster distractors beside the mentions it scores and still charge every wrong merge with them."""
    joint = Counter(zip(predicted, gold, strict=True))
    pred_size = Counter(predicted)
    gold_size = Counter(gold)
    n = precision = recall = 0.0
    for p, g, keep in zip(predicted, gold, scored, strict=True):
        if keep:
            n += 1
            precision += joint[(p, g)] / pred_size[p]
            recall += joint[(p, g)] / gold_size[g]
    if not n:
        return {"b3_precision": 0.0, "b3_recall": 0.0, "b3_f1": 0.0}
    precision, recall = precision / n, recall / n
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"b3_precision": round(precision, 4), "b3_recall": round(recall, 4), "b3_f1": round(f1, 4)}


def pairwise(predicted: Sequence[object], gold: Sequence[object]) -> tuple[float, float, float]:
    """Pairwise precision / recall / F1 over all same-cluster pairs, counted from the contingency table."""
    joint = Counter(zip(predicted, gold, strict=True))
    both = sum(c * (c - 1) / 2 for c in joint.values())
    pred_pairs = sum(c * (c - 1) / 2 for c in Counter(predicted).values())
    gold_pairs = sum(c * (c - 1) / 2 for c in Counter(gold).values())
    precision = both / pred_pairs if pred_pairs else 1.0
    recall = both / gold_pairs if gold_pairs else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def scores(predicted: Sequence[object], gold: Sequence[object]) -> dict[str, float]:
    p, r, f = b3(predicted, gold)
    _, _, pf = pairwise(predicted, gold)
    return {"b3_precision": round(p, 4), "b3_recall": round(r, 4), "b3_f1": round(f, 4), "pairwise_f1": round(pf, 4)}


def by_group(labels: Sequence[object], groups: Sequence[str]) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for i, g in enumerate(groups):
        out[g].append(i)
    return out
