"""Pairing predicted with gold tool calls, and sequence scores (graders-and-formats.md §2).

Covers: one-to-one matching between same-name calls that maximises the total argument score
(Hungarian assignment, ties broken by position), the LCS alignment used for ordered examples,
multiset name precision/recall/F1, and the strict, LCS and parallel-group sequence scores.
Not covered: scoring one pair's arguments (see :mod:`fathom.graders._toolcall_args`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence

__all__ = ["hungarian_pairs", "lcs_pairs", "name_prf", "sequence_lcs", "sequence_parallel"]

PairFn = Callable[[int, int], float]
"""(predicted index, gold index) -> argument score of pairing same-name calls (higher is better)."""

_TIE = 1e-6  # per unit of position distance; far below any real difference in argument score


def name_prf(pred: Sequence[str], gold: Sequence[str]) -> tuple[float, float, float, int]:
    """Precision, recall, F1 and true positives over name *multisets* (a repeated call counts each time).

    >>> name_prf(["lookup", "summarize"], ["lookup", "lookup", "summarize"])[2]
    0.8
    """
    if not pred and not gold:
        return 1.0, 1.0, 1.0, 0
    tp = sum((Counter(pred) & Counter(gold)).values())
    precision = tp / len(pred) if pred else 0.0
    recall = tp / len(gold) if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1, tp


def hungarian_pairs(pred: Sequence[str], gold: Sequence[str], score: PairFn) -> list[tuple[int, int]]:
    """Order-free one-to-one pairs of same-name calls maximising the summed argument score.

    >>> hungarian_pairs(["f", "f"], ["f", "f"], lambda i, j: 1.0 if (i, j) in {(0, 1), (1, 0)} else 0.0)
    [(0, 1), (1, 0)]
    """
    pairs: list[tuple[int, int]] = []
    for name in sorted(set(pred) & set(gold)):
        rows = [i for i, n in enumerate(pred) if n == name]
        cols = [j for j, n in enumerate(gold) if n == name]
        if len(rows) == 1 and len(cols) == 1:
            pairs.append((rows[0], cols[0]))
            continue
        from scipy.optimize import linear_sum_assignment

        cost = [[-score(i, j) + _TIE * abs(i - j) for j in cols] for i in rows]
        for r, c in zip(*linear_sum_assignment(cost), strict=True):
            pairs.append((rows[r], cols[c]))
    return sorted(pairs)


def lcs_pairs(pred: Sequence[str], gold: Sequence[str], score: PairFn) -> list[tuple[int, int]]:
    """Order-preserving pairs: a longest common subsequence of names, and among those the one with
    the highest summed argument score.

    >>> lcs_pairs(["a", "x", "b"], ["a", "b"], lambda i, j: 1.0)
    [(0, 0), (2, 1)]
    >>> lcs_pairs(["f", "f"], ["f"], lambda i, j: float(i == 1))  # the better-scoring f is paired
    [(1, 0)]
    """
    n, m = len(pred), len(gold)
    best = [[(0, 0.0)] * (m + 1) for _ in range(n + 1)]  # (matched count, argument score)
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            options = [best[i + 1][j], best[i][j + 1]]
            if pred[i] == gold[j]:
                count, total = best[i + 1][j + 1]
                options.append((count + 1, total + score(i, j) - _TIE * abs(i - j)))
            best[i][j] = max(options)
    pairs, i, j = [], 0, 0
    while i < n and j < m:
        if pred[i] == gold[j]:
            count, total = best[i + 1][j + 1]
            if best[i][j] == (count + 1, total + score(i, j) - _TIE * abs(i - j)):
                pairs.append((i, j))
                i, j = i + 1, j + 1
                continue
        if best[i][j] == best[i + 1][j]:
            i += 1
        else:
            j += 1
    return pairs


def sequence_lcs(pred: Sequence[str], gold: Sequence[str]) -> float:
    """LCS(names(P), names(G)) / max(|P|, |G|); 1 when both are empty.

    >>> sequence_lcs(["a", "b", "c"], ["a", "c"])
    0.6666666666666666
    """
    if not pred and not gold:
        return 1.0
    return len(lcs_pairs(pred, gold, lambda i, j: 0.0)) / max(len(pred), len(gold))


def sequence_parallel(pred_count: int, gold_count: int, pairs: Sequence[tuple[int, int]],
                      group_of: Sequence[int]) -> float:
    """Sequence score when gold calls form ordered groups whose members may come in any order.

    The matched predicted calls, read in predicted order, are labelled with their gold call's group;
    the score is the longest non-decreasing run of labels (a subsequence) / max(|P|, |G|). With one
    group it counts matched calls; with one call per group it is the LCS score.

    >>> sequence_parallel(3, 3, [(0, 1), (1, 0), (2, 2)], group_of=[0, 0, 1])
    1.0
    >>> sequence_parallel(2, 2, [(0, 1), (1, 0)], group_of=[0, 1])
    0.5
    """
    if pred_count == 0 and gold_count == 0:
        return 1.0
    labels = [group_of[j] for _, j in sorted(pairs)]
    tails: list[int] = []  # patience sorting for the longest non-decreasing subsequence
    for label in labels:
        lo, hi = 0, len(tails)
        while lo < hi:
            mid = (lo + hi) // 2
            if tails[mid] <= label:
                lo = mid + 1
            else:
                hi = mid
        if lo == len(tails):
            tails.append(label)
        else:
            tails[lo] = label
    return len(tails) / max(pred_count, gold_count)
