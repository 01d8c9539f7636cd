"""The evaluation harness: metrics, splits, baselines and data loading, on hand-made data."""

from __future__ import annotations

import numpy as np
import psutil
import pytest
import torch

from shopagent.agent.recommend import interactions_from_csv, interactions_from_records, product_text
from shopagent.fusion.evaluate import (
    Interaction,
    baseline_scores,
    evaluate_split,
    last_order_split,
    orders_by_user,
    probe_accuracy,
    probe_rows,
    ranking_metrics,
    recommend_table,
    summarise,
    training_pool,
)
from shopagent.fusion.model import Features, FusionConfig
from shopagent.fusion.train import TrainConfig


def test_recall_and_ndcg_by_hand() -> None:
    scores = np.array([[0.9, 0.8, 0.1, 0.7], [0.1, 0.2, 0.3, 0.4]])
    metrics = ranking_metrics(scores, [{1, 2}, {3}], k=2)  # top-2: [0, 1] and [3, 2]
    np.testing.assert_allclose(metrics["recall"], [0.5, 1.0])
    np.testing.assert_allclose(metrics["ndcg"], [(1 / np.log2(3)) / (1 + 1 / np.log2(3)), 1.0])


def test_orders_group_by_timestamp_and_the_last_is_held_out() -> None:
    rows = [Interaction("u", "a", 2), Interaction("u", "b", 1), Interaction("u", "c", 2),
            Interaction("v", "a", 5), Interaction("u", "zzz", 3)]
    orders = orders_by_user(rows, {"a": 0, "b": 1, "c": 2})
    assert orders == {"u": [[1], [0, 2]], "v": [[0]]}  # unknown product dropped, orders sorted by time
    split = last_order_split(orders)
    assert split.users == ["u"] and split.context == [[[1]]] and split.target == [{0, 2}]
    assert split.train == [[[1]], [[0]]]  # v's only order still trains (popularity, co-occurrence)


def test_baselines() -> None:
    # Four shoppers bought 0 and later 1; item 2 is the best seller; t bought 0 and is asked about next.
    orders = {f"a{i}": [[0], [1], [3]] for i in range(4)} | {f"b{i}": [[2, 2], [2]] for i in range(3)}
    orders["t"] = [[0], [1]]
    split = last_order_split(orders)
    t = split.users.index("t")
    assert baseline_scores("popularity", split, 4, seed=0)[t].argmax() == 2
    assert baseline_scores("co-occurrence", split, 4, seed=0)[t].argmax() == 1  # bought with 0 by others
    assert baseline_scores("random", split, 4, seed=0).shape == (len(split.users), 4)


def test_evaluate_split_reports_every_method_and_modality_values() -> None:
    rng = np.random.default_rng(0)
    items = Features.full(torch.randn(30, 8), torch.randn(30, 12))
    orders = {f"u{i}": [list(rng.integers(0, 30, 2)) for _ in range(3)] for i in range(20)}
    config = FusionConfig(text_dim=8, image_dim=12, dim=8, attention_hidden=8)
    result = evaluate_split(last_order_split(orders), items, TrainConfig(steps=5), config,
                            known={"oracle": np.zeros((20, 30))})
    for method in ("oracle", "random", "popularity", "co-occurrence", "text", "image", "concat", "fixed", "attention"):
        assert 0 <= result.values[f"{method}/recall"] <= 1
    assert result.values["attention/value_image"] == pytest.approx(
        result.values["attention/ndcg"] - result.values["text/ndcg"])
    summary = summarise([result, result])
    assert summary["attention/ndcg"][1] == 0.0
    assert "attention" in recommend_table(summary)


def test_models_trained_in_a_pool_score_exactly_as_in_process() -> None:
    rng = np.random.default_rng(1)
    items = Features.full(torch.randn(25, 6), torch.randn(25, 10))
    orders = {f"s{i}": [list(rng.integers(0, 25, 3)) for _ in range(4)] for i in range(16)}
    config = FusionConfig(text_dim=6, image_dim=10, dim=6, attention_hidden=6)
    split, train = last_order_split(orders), TrainConfig(steps=25, eval_every=5, seed=3)
    here = evaluate_split(split, items, train, config, methods=("popularity", "text", "fixed", "attention"))
    with training_pool(2) as pool:
        assert pool is not None
        pooled = evaluate_split(split, items, train, config, methods=("popularity", "text", "fixed", "attention"),
                                pool=pool)
    assert list(pooled.values) == list(here.values)  # same methods, in the order asked
    assert pooled.values == here.values  # bit for bit: the pool changes the wall time only
    with training_pool(1) as none:
        assert none is None  # one worker: train in this process, no processes to start


def test_probe_separable_features_and_no_idle_workers_left() -> None:
    rng = np.random.default_rng(0)
    labels = ["a", "b"] * 30
    features = rng.standard_normal((60, 5)) + np.array([[3.0 if l == "a" else -3.0] for l in labels])
    assert probe_accuracy(features, labels)[0] > 0.95
    rows = probe_rows(features, {"side": labels, "noise": ["x", "y", "z"] * 20})
    assert [r[0] for r in rows] == ["side", "noise"] and float(rows[0][3].split()[0]) > 0.95
    workers = [c for c in psutil.Process().children(recursive=True) if "LokyProcess" in " ".join(c.cmdline())]
    assert workers == []  # shut down with the table, not left idle holding memory


PRODUCT = {
    "product_id": "p1", "name": "Fern Tote Bag", "category": "Bags", "description": "A sturdy tote.",
    "attributes": {"material": "jute"}, "visual": {"color": "red", "pattern": "striped", "shape": "square"},
    "visual_in_text": False,
    "variants": {"i1": {"item_id": "i1", "options": {"size": "small"}}, "i2": {"item_id": "i2", "options": {"size": "large"}}},
}


def test_product_text_states_looks_only_when_allowed() -> None:
    hidden = product_text(PRODUCT)
    assert "jute" in hidden and "size: small, large" in hidden and "red" not in hidden
    assert "color: red" in product_text({**PRODUCT, "visual_in_text": True})


def test_interaction_log_csv(tmp_path) -> None:
    log = tmp_path / "log.csv"
    log.write_text("user,item,timestamp\nu1,i1,2024-01-01\nu1,p1,2024-02-01\nu2,unknown,2024-01-01\n")
    rows = interactions_from_csv(log, [PRODUCT])
    assert rows == [Interaction("u1", "p1", "2024-01-01"), Interaction("u1", "p1", "2024-02-01")]
    (tmp_path / "bad.csv").write_text("who,what\n")
    with pytest.raises(ValueError, match="missing column"):
        interactions_from_csv(tmp_path / "bad.csv", [PRODUCT])


def test_interactions_from_records_use_dates_or_positions() -> None:
    data = {
        "users": {"u": {"user_id": "u", "orders": ["#1", "#2"]}},
        "orders": {"#1": {"items": [{"product_id": "p1"}]}, "#2": {"items": [{"product_id": "p2"}], "placed_at": None}},
    }
    assert [r.timestamp for r in interactions_from_records(data)] == [0, 1]
