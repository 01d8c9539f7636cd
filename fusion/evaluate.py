"""What the recommender is worth: last-order prediction, modality ablations, and image linear probes.

**Last-order prediction.** Every shopper with at least two orders has their last order held out; the
methods rank the whole catalog from the shopper's earlier orders and are scored on the products of
the held-out order (Recall@10, NDCG@10 with binary relevance; a product bought before may be bought
again, so nothing is filtered). Models train on everything except the held-out orders.

Baselines: random (a seeded random ranking), popularity (purchase counts), item co-occurrence (shoppers who
bought both), and the five fusion-family models (text, image, concat, fixed, attention). A modality's
value is measured by *ablation*: the NDCG a two-modality model loses when it is trained and evaluated
without that modality, i.e. against the single-modality model of the same family. (Masking a modality
at test time instead would measure a model on inputs it never saw, and for attention the weights
computed from a blanked modality distort the other channel's ranking.)

**Linear probe.** How much of each visual attribute the image features carry: a logistic regression
from EfficientNet features of rendered pictures to the attribute, cross-validated.
"""

from __future__ import annotations

import multiprocessing
import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import torch

from shopagent.fusion.metrics import K, history_counts, ranking_metrics
from shopagent.fusion.model import KINDS, Features, FusionConfig, FusionModel
from shopagent.fusion.train import History, TrainConfig, train_model

BASELINES = ("random", "popularity", "co-occurrence")
METHODS = BASELINES + KINDS
ABLATED = ("fixed", "attention")  # two-modality models whose modalities can be dropped


@dataclass(frozen=True)
class Interaction:
    """One purchased product; products bought by a shopper at the same ``timestamp`` form an order."""

    user: str
    product_id: str
    timestamp: Any  # anything sortable: a datetime, an order position, an ISO string


@dataclass
class LastOrderSplit:
    train: list[History]  # every shopper's training orders (held-out orders removed)
    users: list[str]  # the evaluated shoppers (those with two orders or more)
    context: list[History]  # per evaluated shopper: their orders before the last
    target: list[set[int]]  # per evaluated shopper: the products of their last order


def orders_by_user(interactions: Iterable[Interaction], index: Mapping[str, int]) -> dict[str, list[list[int]]]:
    """Group interactions into each user's orders (oldest first) of catalog indices.

    Interactions naming a product not in ``index`` are skipped: the catalog decides what is rankable.
    """
    grouped: dict[str, dict[Any, list[int]]] = defaultdict(lambda: defaultdict(list))
    for row in interactions:
        if row.product_id in index:
            grouped[row.user][row.timestamp].append(index[row.product_id])
    return {user: [orders[t] for t in sorted(orders)] for user, orders in grouped.items()}


def last_order_split(orders: Mapping[str, list[list[int]]]) -> LastOrderSplit:
    split = LastOrderSplit([], [], [], [])
    for user, user_orders in orders.items():
        if len(user_orders) >= 2:
            split.users.append(user)
            split.context.append(user_orders[:-1])
            split.target.append(set(user_orders[-1]))
            split.train.append(user_orders[:-1])
        else:
            split.train.append(user_orders)
    return split


def baseline_scores(method: str, split: LastOrderSplit, num_items: int, seed: int) -> np.ndarray:
    popularity = history_counts(split.train, num_items).sum(axis=0)
    users = len(split.context)
    if method == "random":
        return np.random.default_rng(seed).random((users, num_items))
    if method == "popularity":
        return np.broadcast_to(popularity, (users, num_items))
    # co-occurrence: how many training shoppers bought both; popularity breaks ties.
    bought = (history_counts(split.train, num_items) > 0).astype(float)
    together = bought.T @ bought
    np.fill_diagonal(together, 0)
    context = (history_counts(split.context, num_items) > 0).astype(float)
    return context @ together + 1e-6 * popularity


def model_scores(model: FusionModel, items: Features, histories: Sequence[History]) -> np.ndarray:
    membership = torch.from_numpy(history_counts(histories, len(items.text))).float()
    with torch.inference_mode():
        return model(items, membership).logits.numpy()


@contextmanager
def training_pool(workers: int | None = None) -> Iterator[Executor | None]:
    """Processes that train models side by side for :func:`evaluate_split`; by default as many as
    the cores hold at the caller's torch thread count. One worker means none: train in this process.

    Each model trains in one process with the caller's thread count, so it comes out exactly as it
    would have in the caller (same seed, same threads: same weights); only the wall time changes.
    Processes are spawned, not forked (a forked torch can hang on locks its parent's threads held);
    starting one costs seconds, so short runs are better off without.
    """
    threads = torch.get_num_threads()
    workers = workers or max(1, (os.cpu_count() or 1) // threads)
    if workers == 1:
        yield None
        return
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"),
                             initializer=torch.set_num_threads, initargs=(threads,)) as pool:
        yield pool


def _trained_scores(
    config: FusionConfig, train: TrainConfig, items: Features, split: LastOrderSplit, progress: bool
) -> np.ndarray:
    """Train one model on ``split`` and score its evaluated shoppers (a pool worker's job)."""
    return model_scores(train_model(config, train, items, split.train, progress), items, split.context)


def _now(job: Callable[..., np.ndarray], *args: Any) -> Future[np.ndarray]:
    """Run ``job`` in this process, as a finished future (no pool given)."""
    future: Future[np.ndarray] = Future()
    future.set_result(job(*args))
    return future


@dataclass
class Result:
    """Metric name → value, for one dataset (e.g. ``attention/ndcg``, ``attention/value_image``)."""

    values: dict[str, float] = field(default_factory=dict)


def evaluate_split(
    split: LastOrderSplit,
    items: Features,
    train: TrainConfig,
    model_config: FusionConfig = FusionConfig(),
    methods: Sequence[str] = METHODS,
    known: Mapping[str, np.ndarray] | None = None,
    progress: bool = False,
    pool: Executor | None = None,
) -> Result:
    """Every method's Recall@10 and NDCG@10 on one dataset, and the value of each modality.

    ``known`` adds rankings computed elsewhere, e.g. ``{"planted tastes": …}`` (the generator's own
    pick probabilities: the best ranking any method could hope for), as rows of the same table.
    With a ``pool`` (:func:`training_pool`) the models train side by side; the numbers are the same.
    """
    result = Result()
    num_items = len(items.text)

    def record(method: str, scores: np.ndarray) -> None:
        for name, values in ranking_metrics(scores, split.target).items():
            result.values[f"{method}/{name}"] = float(values.mean())

    submit = pool.submit if pool is not None else _now
    # Started in reverse: METHODS ends with the slowest models, and a pool finishes sooner starting those.
    trained = {method: submit(_trained_scores, replace(model_config, kind=method), train, items, split, progress)
               for method in reversed(methods) if method not in BASELINES}
    for name, scores in (known or {}).items():
        record(name, scores)
    for method in methods:
        if method in BASELINES:
            record(method, baseline_scores(method, split, num_items, train.seed))
        else:
            record(method, trained[method].result())
    # Paired differences (same dataset): a modality's value is what the two-modality model loses when
    # trained without it; and how far the model is ahead of the better single modality and popularity.
    ndcg = {m.removesuffix("/ndcg"): v for m, v in result.values.items() if m.endswith("/ndcg")}
    for method in ABLATED:
        if method in ndcg and {"text", "image"} <= ndcg.keys():
            result.values[f"{method}/value_text"] = ndcg[method] - ndcg["image"]
            result.values[f"{method}/value_image"] = ndcg[method] - ndcg["text"]
            result.values[f"{method}/vs_single"] = ndcg[method] - max(ndcg["text"], ndcg["image"])
        if method in ndcg and "popularity" in ndcg:
            result.values[f"{method}/vs_popularity"] = ndcg[method] - ndcg["popularity"]
    return result


def summarise(results: Sequence[Result]) -> dict[str, tuple[float, float]]:
    """Mean and sample standard deviation of each metric over datasets (0 spread for one)."""
    keys = results[0].values.keys()
    out = {}
    for key in keys:
        values = np.array([r.values[key] for r in results])
        out[key] = (float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0)
    return out


def format_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A plain-text table with right-aligned numbers, for terminals and reports."""
    widths = [max(len(str(c)) for c in column) for column in zip(headers, *rows)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) if i == 0 else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths)))

    return "\n".join([line(headers), "  ".join("-" * w for w in widths), *map(line, rows)])


def pm(stats: tuple[float, float]) -> str:
    return f"{stats[0]:.3f} ± {stats[1]:.3f}"


def recommend_table(summary: Mapping[str, tuple[float, float]]) -> str:
    """One row per method, in the order they were measured."""
    methods = [key.removesuffix("/ndcg") for key in summary if key.endswith("/ndcg")]
    rows = [[m, pm(summary[f"{m}/recall"]), pm(summary[f"{m}/ndcg"])] for m in methods]
    return format_table(["method", f"Recall@{K}", f"NDCG@{K}"], rows)


def ablation_table(summary: Mapping[str, tuple[float, float]]) -> str:
    """Paired differences in NDCG@10 for the two-modality models (mean ± spread over datasets)."""
    columns = {"value_text": "drop text", "value_image": "drop image", "vs_single": "vs best single",
               "vs_popularity": "vs popularity"}
    rows = [
        [m, *(pm(summary[f"{m}/{key}"]) for key in columns)]
        for m in ABLATED
        if all(f"{m}/{key}" in summary for key in columns)
    ]
    return format_table(["ΔNDCG@10 (paired)", *columns.values()], rows)


def verdict(summary: Mapping[str, tuple[float, float]], method: str = "attention") -> str:
    """Whether ``method`` is ahead of the best single modality and of popularity by more than the
    spread over datasets (of either side's NDCG), as the issue asks."""
    mean, spread = summary[f"{method}/ndcg"]
    single = max(("text", "image"), key=lambda m: summary[f"{m}/ndcg"][0])
    lines = []
    for other in (single, "popularity"):
        other_mean, other_spread = summary[f"{other}/ndcg"]
        gap, bar = mean - other_mean, max(spread, other_spread)
        lines.append(f"{method} vs {other}: {gap:+.3f} NDCG@10, spread {bar:.3f}: "
                     f"{'ahead by more than the spread' if gap > bar else 'NOT ahead by more than the spread'}")
    return "\n".join(lines)


# --- linear probe --------------------------------------------------------------------------------


def probe_accuracy(features: np.ndarray, labels: Sequence[str], folds: int = 5, seed: int = 0) -> tuple[float, float]:
    """Cross-validated accuracy (mean, std over folds) of a logistic regression on ``features``.

    Folds fit side by side, one process per core with one BLAS thread each (joblib's default): the
    same fits as one after another, without BLAS threads fighting over the cores.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
    splits = StratifiedKFold(folds, shuffle=True, random_state=seed)
    scores = cross_val_score(probe, features, np.asarray(labels), cv=splits, n_jobs=-1)
    return float(scores.mean()), float(scores.std())


def random_combinations(vocabulary: Mapping[str, Sequence[str]], samples: int, seed: int = 0) -> list[dict[str, str]]:
    """``samples`` attribute combinations: every value of an attribute equally often (so each class
    has enough examples for stratified folds), attributes shuffled independently of each other."""
    rng = np.random.default_rng(seed)
    columns = {name: rng.permutation(np.arange(samples) % len(values)) for name, values in vocabulary.items()}
    return [{name: vocabulary[name][int(columns[name][i])] for name in vocabulary} for i in range(samples)]


def probe_rows(features: np.ndarray, labels: Mapping[str, Sequence[str]], seed: int = 0) -> list[list[str]]:
    """Linear-probe table rows ``[attribute, values, majority-class rate, accuracy ± spread over folds]``.

    The fold workers are reused across attributes, then shut down: joblib would keep them, ~300 MiB
    each, idle for 5 minutes.
    """
    from joblib.externals.loky import get_reusable_executor

    rows = []
    for name, values in labels.items():
        values = list(values)
        mean, std = probe_accuracy(features, values, seed=seed)
        majority = max(values.count(v) for v in set(values)) / len(values)
        rows.append([name, str(len(set(values))), f"{majority:.3f}", f"{mean:.3f} ± {std:.3f}"])
    get_reusable_executor().shutdown(wait=True)
    return rows
