"""The fusion family on a tiny planted dataset: it learns the planted direction, deterministically."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from shopagent.fusion.model import KINDS, Features, FusionConfig
from shopagent.fusion.train import (
    Artifact,
    ArtifactError,
    TrainConfig,
    load_artifact,
    save_artifact,
    train_model,
)

ITEMS, TEXT_DIM, IMAGE_DIM = 80, 16, 24
SMALL = FusionConfig(text_dim=TEXT_DIM, image_dim=IMAGE_DIM, dim=16, attention_hidden=16)
QUICK = TrainConfig(steps=120, batch_users=32, seed=0)
GROUP_A = np.arange(ITEMS) < ITEMS // 2  # the first half of the products
UNSEEN = np.arange(ITEMS) % 4 == 3  # never bought in training: only their content can place them


def planted(modality: str, seed: int = 0) -> tuple[Features, list]:
    """Group A differs from group B in one modality only; half the shoppers buy A, half B."""
    rng = np.random.default_rng(seed)
    text = rng.standard_normal((ITEMS, TEXT_DIM)).astype(np.float32)
    image = rng.standard_normal((ITEMS, IMAGE_DIM)).astype(np.float32)
    (text if modality == "text" else image)[:, 0] = np.where(GROUP_A, 3.0, -3.0)
    histories = []
    for shopper in range(60):
        liked = np.flatnonzero((GROUP_A if shopper % 2 == 0 else ~GROUP_A) & ~UNSEEN)
        histories.append([list(rng.choice(liked, size=2)) for _ in range(4)])
    return Features.full(torch.from_numpy(text), torch.from_numpy(image)), histories


def preference(model, items: Features) -> tuple[float, torch.Tensor]:
    """For a shopper who bought two group-A products: the mean score gap between unseen A and unseen
    B products, and the mean channel weights over those products."""
    membership = torch.zeros(1, ITEMS)
    membership[0, [0, 1]] = 1.0
    with torch.inference_mode():
        scores = model(items, membership)
    logits = scores.logits[0].numpy()
    gap = logits[GROUP_A & UNSEEN].mean() - logits[~GROUP_A & UNSEEN].mean()
    return float(gap), scores.weights[0, torch.from_numpy(UNSEEN)].mean(dim=0)


@pytest.mark.parametrize("modality", ["text", "image"])
def test_attention_follows_the_planted_modality(modality: str) -> None:
    items, histories = planted(modality)
    gap, weights = preference(train_model(SMALL, QUICK, items, histories), items)
    assert gap > 3.0  # ranks products of the liked group first, even ones nobody bought
    channel = ("text", "image").index(modality)
    assert weights[channel] > weights[1 - channel]  # leaning on the modality that carries the taste


@pytest.mark.parametrize("kind", KINDS)
def test_each_variant_learns_the_direction_only_if_it_sees_the_modality(kind: str) -> None:
    items, histories = planted("image")
    gap, _ = preference(train_model(replace(SMALL, kind=kind), QUICK, items, histories), items)
    if kind == "text":
        assert abs(gap) < 1.5  # the text carries nothing here (seen: 0.5-0.8; with the image: 5-8)
    else:
        assert gap > 3.0


def test_training_is_deterministic_under_a_seed() -> None:
    items, histories = planted("image")
    short = replace(QUICK, steps=20)
    a = train_model(SMALL, short, items, histories).state_dict()
    b = train_model(SMALL, short, items, histories).state_dict()
    c = train_model(SMALL, replace(short, seed=1), items, histories).state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)
    assert not all(torch.equal(a[k], c[k]) for k in a)


def test_shoppers_with_one_order_cannot_train() -> None:
    items, _ = planted("image")
    with pytest.raises(ValueError, match="two orders"):
        train_model(SMALL, QUICK, items, [[[1, 2]], [[3]]])


def test_artifacts_are_versioned_and_reload(tmp_path) -> None:
    items, histories = planted("image")
    model = train_model(SMALL, TrainConfig(steps=30, seed=0), items, histories)
    ids = [f"p{i}" for i in range(ITEMS)]
    first = save_artifact(Artifact(model, ids, TrainConfig(steps=30), {"note": "test"}), tmp_path)
    second = save_artifact(Artifact(model, ids, TrainConfig(steps=30)), tmp_path)
    assert (first.name, second.name) == ("v1", "v2")
    config = json.loads((second / "config.json").read_text())
    assert config["model"]["kind"] == "attention" and config["format_version"] == 1
    assert config["text_model"] == "minilm" and config["image_model"] == "efficientnet-lite0"
    loaded = load_artifact(tmp_path)  # the newest version
    assert loaded.product_ids == ids and loaded.train.steps == 30
    assert load_artifact(first).meta == {"note": "test"}
    assert preference(loaded.model, items)[0] == pytest.approx(preference(model, items)[0])


def test_missing_or_foreign_artifacts_are_clear_errors(tmp_path) -> None:
    with pytest.raises(ArtifactError, match="no fusion model"):
        load_artifact(tmp_path)
    folder = tmp_path / "v1"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"format_version": 99}))
    with pytest.raises(ArtifactError, match="format version 99"):
        load_artifact(tmp_path)


def test_unknown_products_get_no_prior() -> None:
    items, histories = planted("image")
    model = train_model(SMALL, TrainConfig(steps=30), items, histories)
    membership = torch.zeros(1, ITEMS)
    index = torch.full((ITEMS,), -1)
    with torch.inference_mode():
        without = model(items, membership, bias_index=index).logits
    assert torch.allclose(without, torch.zeros_like(without))  # no context, no prior: all equal
