"""The scorer end to end: real encoders, a small demo store, a briefly trained model."""

from __future__ import annotations

import io
from datetime import date

import pytest
import torch

from shopagent.agent.recommend import catalog_items, interactions_from_records
from shopagent.agent.store.demo import DemoOptions, generate
from shopagent.fusion.evaluate import orders_by_user
from shopagent.fusion.features import catalog_features
from shopagent.fusion.image import ImageError
from shopagent.fusion.model import Features, FusionConfig
from shopagent.fusion.scorer import FusionScorer
from shopagent.fusion.tastes import TasteSampler
from shopagent.fusion.train import Artifact, TrainConfig, train_model
from shopagent.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def scorer(fusion_settings: Settings) -> FusionScorer:
    data = generate(DemoOptions(seed=5, products=16, users=40, hidden_visual_fraction=0.5, today=date(2025, 1, 1)),
                    TasteSampler())
    items = catalog_items(data["products"].values())
    text, image = catalog_features(items, fusion_settings)
    features = Features.full(torch.from_numpy(text), torch.from_numpy(image))
    histories = list(orders_by_user(interactions_from_records(data), {it.product_id: i for i, it in enumerate(items)}).values())
    model = train_model(FusionConfig(), TrainConfig(steps=40), features, histories)
    # The last product is "new": the model never saw it, so it has no learned prior.
    artifact = Artifact(model, [it.product_id for it in items[:-1]] + ["retired"], TrainConfig(steps=40))
    return FusionScorer(artifact, items, fusion_settings)


def test_history_ranking_has_scores_and_reasons(scorer: FusionScorer) -> None:
    bought = [scorer.catalog[0].product_id, scorer.catalog[1].product_id]
    ranked = scorer.rank(history=bought, k=5)
    assert len(ranked) == 5
    assert [r.score for r in ranked] == sorted((r.score for r in ranked), reverse=True)
    assert all("you bought" in r.reason for r in ranked)
    assert all(r.title == scorer.catalog[scorer.index[r.product_id]].title for r in ranked)


def test_query_and_photo_join_the_context(scorer: FusionScorer) -> None:
    ranked = scorer.rank(query="a warm wool blanket for the sofa", k=3)
    assert any("your search" in r.reason for r in ranked)
    photo = io.BytesIO()
    scorer.catalog[3].image.save(photo, format="PNG")
    ranked = scorer.rank(image=photo.getvalue(), k=3)
    assert scorer.catalog[3].product_id in [r.product_id for r in ranked]  # the product in the photo
    assert all("your photo" in r.reason for r in ranked)


def test_candidates_and_empty_context(scorer: FusionScorer) -> None:
    pool = [item.product_id for item in scorer.catalog[5:9]] + ["no-such-product"]
    ranked = scorer.rank(candidates=pool, k=10)
    assert {r.product_id for r in ranked} == set(pool[:4])
    assert all(r.reason == "popular in this shop" for r in ranked)
    assert scorer.rank(candidates=[scorer.catalog[-1].product_id])  # a product the model never saw


def test_bad_photo_is_a_typed_error(scorer: FusionScorer) -> None:
    with pytest.raises(ImageError):
        scorer.rank(image=b"\x89PNG not really")
