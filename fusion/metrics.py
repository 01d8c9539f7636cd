"""Ranking metrics shared by training (early stopping) and evaluation."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

K = 10


def ranking_metrics(scores: np.ndarray, targets: Sequence[set[int]], k: int = K) -> dict[str, np.ndarray]:
    """Per-shopper Recall@k and NDCG@k (binary relevance) of score rows against target sets."""
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    discount = 1.0 / np.log2(np.arange(2, k + 2))
    recall, ndcg = np.zeros(len(targets)), np.zeros(len(targets))
    for row, target in enumerate(targets):
        hits = np.array([item in target for item in top[row]], dtype=float)
        recall[row] = hits.sum() / len(target)
        ndcg[row] = (hits * discount).sum() / discount[: min(len(target), k)].sum()
    return {"recall": recall, "ndcg": ndcg}


def history_counts(histories: Sequence[Sequence[Sequence[int]]], num_items: int) -> np.ndarray:
    """``(shoppers, items)`` purchase counts over each shopper's orders."""
    counts = np.zeros((len(histories), num_items))
    for row, history in enumerate(histories):
        for order in history:
            for item in order:
                counts[row, item] += 1
    return counts
