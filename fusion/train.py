"""Training the fusion models, and saving them as versioned artifacts.

Two signals train a model:

- **Interactions.** For a shopper, one past order is the target and their other orders are the
  context; the loss is the cross-entropy of the target's products under a softmax over the whole
  catalog (catalogs here have hundreds of products, so no negative sampling is needed).
- **Catalog self-supervision** (two-channel models): a product's text and image embeddings are pulled
  together and apart from other products' (symmetric InfoNCE). Products whose looks are described in
  their text teach the image channel what those looks are, which carries over to products whose looks
  are only in the picture.

Each shopper's latest order (for shoppers with three or more) is held out for early stopping.
Runs are deterministic under ``TrainConfig.seed`` (same seed, same thread count: same weights). An
artifact is a folder ``<root>/v<N>/`` with ``config.json`` (format version, configs, the product ids
the learned priors belong to) and ``weights.pt``; saving never overwrites an earlier version.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from shopagent import __version__
from shopagent.fusion.features import IMAGE_MODEL, TEXT_MODEL
from shopagent.fusion.metrics import history_counts, ranking_metrics
from shopagent.fusion.model import Features, FusionConfig, FusionModel
from shopagent.settings import Settings

FORMAT_VERSION = 1

History = Sequence[Sequence[int]]  # one shopper's orders, oldest first, as catalog indices


class ArtifactError(RuntimeError):
    """No artifact where one was expected, or one this version cannot read."""


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 400  # at most: the step that did best on held-out orders is kept
    eval_every: int = 20
    batch_users: int = 64
    lr: float = 5e-3
    weight_decay: float = 1e-3
    align_weight: float = 0.2
    align_temperature: float = 0.1
    seed: int = 0


@dataclass
class Artifact:
    """A trained model with what is needed to use it again."""

    model: FusionModel
    product_ids: list[str]
    train: TrainConfig
    meta: dict[str, object] = field(default_factory=dict)


def train_model(
    config: FusionConfig,
    train: TrainConfig,
    items: Features,
    histories: Sequence[History],
    progress: bool = False,
) -> FusionModel:
    """Fit a model on shoppers' order histories (shoppers with fewer than two orders teach nothing).

    Each shopper with three orders or more lends their latest order to a validation set; the weights
    from the checkpoint (every ``eval_every`` steps) with the best smoothed NDCG@10 on it are kept. Stopping early matters: a projection of
    1280-d image features can learn every product's identity from a few hundred shoppers, and the
    point where it starts to is different for every model and shop.
    """
    torch.manual_seed(train.seed)
    rng = np.random.default_rng(train.seed)
    model = FusionModel(config, len(items.text))
    model.set_catalog(items)
    held = [h for h in histories if len(h) >= 3]
    shoppers = [h[:-1] if len(h) >= 3 else h for h in histories if len(h) >= 2]
    if not shoppers:
        raise ValueError("no shopper has two orders: nothing to learn from")
    optimiser = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    # Checkpoints with their held-out NDCG@10, starting untrained (the encoders' own similarity).
    checkpoints = [(_validation_ndcg(model, items, held), copy.deepcopy(model.state_dict()))] if held else []
    bar = tqdm(range(1, train.steps + 1), desc=f"training {config.kind}", unit="step", disable=not progress)
    for step in bar:
        model.train()
        batch = rng.choice(len(shoppers), size=min(train.batch_users, len(shoppers)), replace=False)
        membership, target = _leave_one_order_out(
            [shoppers[u] for u in batch], len(items.text), held_out=lambda orders: int(rng.integers(len(orders)))
        )
        scores = model(items, membership)
        loss = -(target * F.log_softmax(scores.logits, dim=1)).sum(dim=1).mean()
        if train.align_weight and len(model.channels) == 2:  # on the embeddings just scored: no second pass
            loss = loss + train.align_weight * _alignment_loss(*scores.items, train.align_temperature)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        if held and (step % train.eval_every == 0 or step == train.steps):
            checkpoints.append((_validation_ndcg(model, items, held), copy.deepcopy(model.state_dict())))
            bar.set_postfix(loss=f"{loss.item():.3f}", held_out_ndcg=f"{checkpoints[-1][0]:.3f}")
    if checkpoints:
        model.load_state_dict(checkpoints[_best_checkpoint([score for score, _ in checkpoints])][1])
    return model.eval()


def _validation_ndcg(model: FusionModel, items: Features, held: Sequence[History]) -> float:
    model.eval()
    membership = torch.from_numpy(history_counts([h[:-1] for h in held], len(items.text))).float()
    with torch.inference_mode():
        scores = model(items, membership).logits.numpy()
    return float(ranking_metrics(scores, [set(h[-1]) for h in held])["ndcg"].mean())


def _best_checkpoint(scores: Sequence[float]) -> int:
    """Index of the best checkpoint by NDCG averaged with its neighbours: a few hundred held-out
    orders make single evaluations noisy, and the raw maximum would mostly pick the noise."""
    padded = np.pad(np.asarray(scores), 1, mode="edge")
    return int(np.argmax((padded[:-2] + padded[1:-1] + padded[2:]) / 3))


def _leave_one_order_out(
    shoppers: Sequence[History], num_items: int, held_out: Callable[[History], int]
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each shopper one order (``held_out`` picks which) is the target; the others are the context."""
    membership = np.zeros((len(shoppers), num_items), dtype=np.float32)
    target = np.zeros((len(shoppers), num_items), dtype=np.float32)
    for row, orders in enumerate(shoppers):
        held = held_out(orders)
        for k, order in enumerate(orders):
            np.add.at(target[row] if k == held else membership[row], list(order), 1.0)
    return torch.from_numpy(membership), torch.from_numpy(target / target.sum(axis=1, keepdims=True))


def _alignment_loss(text: torch.Tensor, image: torch.Tensor, temperature: float) -> torch.Tensor:
    """Symmetric InfoNCE between each product's text and image embeddings."""
    logits = text @ image.T / temperature
    labels = torch.arange(len(text))
    return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


# --- artifacts -----------------------------------------------------------------------------------


def artifact_root(settings: Settings, name: str = "recommender") -> Path:
    return settings.data_dir / "fusion" / name


def save_artifact(artifact: Artifact, root: Path) -> Path:
    """Write ``artifact`` as the next version under ``root``; returns its folder."""
    root.mkdir(parents=True, exist_ok=True)
    version = max(_versions(root), default=0) + 1
    staging = root / f".v{version}.tmp"
    staging.mkdir()
    config = {
        "format_version": FORMAT_VERSION,
        "shopagent_version": __version__,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "text_model": TEXT_MODEL,
        "image_model": IMAGE_MODEL,
        "model": artifact.model.config.as_dict(),
        "train": asdict(artifact.train),
        "product_ids": artifact.product_ids,
        "meta": artifact.meta,
    }
    (staging / "config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False))
    torch.save(artifact.model.state_dict(), staging / "weights.pt")
    folder = root / f"v{version}"
    staging.rename(folder)
    return folder


def load_artifact(path: Path) -> Artifact:
    """Load a version folder, or the newest version under an artifact root."""
    if not (path / "config.json").is_file():
        versions = _versions(path) if path.is_dir() else []
        if not versions:
            raise ArtifactError(f"no fusion model at {path} (train one: shopagent train-recommender)")
        path = path / f"v{max(versions)}"
    config = json.loads((path / "config.json").read_text())
    if config.get("format_version") != FORMAT_VERSION:
        raise ArtifactError(
            f"{path} has format version {config.get('format_version')}; this shopagent reads {FORMAT_VERSION}"
        )
    model = FusionModel(FusionConfig(**config["model"]), len(config["product_ids"]))
    model.load_state_dict(torch.load(path / "weights.pt", map_location="cpu", weights_only=True))
    return Artifact(model.eval(), config["product_ids"], TrainConfig(**config["train"]), config["meta"])


def _versions(root: Path) -> list[int]:
    return [int(m.group(1)) for p in root.iterdir() if (m := re.fullmatch(r"v(\d+)", p.name))]
