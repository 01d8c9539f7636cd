"""Reading a real store database, and the demo evaluation end to end (tiny, with real encoders)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from shopagent.agent.recommend import DemoEvaluation, demo_report, evaluate_demo, read_store, store_data
from shopagent.agent.store.db import create_engine, migrate
from shopagent.agent.store.demo import DemoOptions, load_demo
from shopagent.fusion.tastes import TasteConfig, TasteSampler
from shopagent.fusion.train import TrainConfig
from shopagent.settings import Settings


@pytest.fixture
def store_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'shop.db'}"
    engine = create_engine(url)
    migrate(engine)
    load_demo(engine, DemoOptions(seed=3, products=20, users=15, hidden_visual_fraction=0.5, today=date(2025, 1, 1)),
              TasteSampler(TasteConfig(orders_per_shopper=(2, 3))))
    return url


def test_store_records_and_interactions(store_url: str, tmp_path: Path) -> None:
    products, interactions = read_store(create_engine(store_url))
    assert len(products) == 20 and all(p["variants"] for p in products)
    assert {"visual", "visual_in_text", "attributes"} <= products[0].keys()
    assert len({i.user for i in interactions}) == 15
    assert all(isinstance(i.timestamp, str) for i in interactions)  # placed_at, ISO: sorts in time order
    log = tmp_path / "log.csv"
    item = next(iter(products[0]["variants"]))
    log.write_text(f"user,item,timestamp\nsomeone,{item},1\n")
    _, rows, source = store_data(store_url, Settings(data_dir=tmp_path), log)
    assert [r.product_id for r in rows] == [products[0]["product_id"]] and "log.csv" in source


def test_unknown_store_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHOPAGENT_TAU2_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="τ² data not found"):
        store_data("tau2", Settings(data_dir=tmp_path))


@pytest.mark.slow
def test_demo_evaluation_prints_every_table(fusion_settings: Settings) -> None:
    plan = DemoEvaluation(fractions=(0.5,), seeds=(1,), products=16, users=30)
    summaries = evaluate_demo(plan, fusion_settings, TrainConfig(steps=10))
    report = demo_report(plan, summaries)
    assert "SYNTHETIC" in report and "image-only fraction 0.5" in report
    for row in ("planted tastes", "popularity", "co-occurrence", "attention", "drop image", "vs best single"):
        assert row in report
