"""Training the fusion models, and saving them as versioned artifacts.

Two signals train a model:

- **Interactions.** For a shopper, one past order is the target and their other orders are the
  context; the loss is the cross-entropy of the target's products under a softmax over the whole
  catalog (catalogs here have hundreds of products, so no negative sampling is needed).
- **Catalog self-supervision** (two-channel models): a product's text and image embeddings are pulled
  together and apart from other products' (symmetric InfoNCE). Products whose looks are described in
  their text teach the image channel what those looks are, which carries over to products whose looks
  are only in the picture.

Runs are deterministic under ``TrainConfig.seed`` (same seed, same thread count: same weights). An
artifact is a folder ``<root>/v<N>/`` with ``config.json`` (format version, configs, the product ids
the learned priors belong to) and ``weights.pt``; saving never overwrites an earlier version.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F
from tqdm import tqdm

from shopagent import __version__
from shopagent.fusion.features import IMAGE_MODEL, TEXT_MODEL
from shopagent.fusion.model import Features, FusionConfig, FusionModel
from shopagent.settings import Settings

FORMAT_VERSION = 1

History = Sequence[Sequence[int]]  # one shopper's orders, oldest first, as catalog indices


class ArtifactError(RuntimeError):
    """No artifact where one was expected, or one this version cannot read."""


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 300
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
    """Fit a model on shoppers' order histories (shoppers with fewer than two orders teach nothing)."""
    torch.manual_seed(train.seed)
    rng = np.random.default_rng(train.seed)
    model = FusionModel(config, len(items.text))
    model.set_catalog(items)
    shoppers = [h for h in histories if len(h) >= 2]
    if not shoppers:
        raise ValueError("no shopper has two orders: nothing to learn from")
    optimiser = torch.optim.AdamW(model.parameters(), lr=train.lr, weight_decay=train.weight_decay)
    model.train()
    bar = tqdm(range(train.steps), desc=f"training {config.kind}", unit="step", disable=not progress)
    for _ in bar:
        batch = rng.choice(len(shoppers), size=min(train.batch_users, len(shoppers)), replace=False)
        membership, target = _leave_one_order_out([shoppers[u] for u in batch], len(items.text), rng)
        logits = model(items, membership).logits
        loss = -(target * F.log_softmax(logits, dim=1)).sum(dim=1).mean()
        if train.align_weight and len(model.channels) == 2:
            loss = loss + train.align_weight * _alignment_loss(model, items, train.align_temperature)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        bar.set_postfix(loss=f"{loss.item():.3f}")
    return model.eval()


def _leave_one_order_out(
    shoppers: Sequence[History], num_items: int, rng: np.random.Generator
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each shopper pick one order as the target; the others are the context."""
    membership = np.zeros((len(shoppers), num_items), dtype=np.float32)
    target = np.zeros((len(shoppers), num_items), dtype=np.float32)
    for row, orders in enumerate(shoppers):
        held = int(rng.integers(len(orders)))
        for k, order in enumerate(orders):
            np.add.at(target[row] if k == held else membership[row], list(order), 1.0)
    return torch.from_numpy(membership), torch.from_numpy(target / target.sum(axis=1, keepdims=True))


def _alignment_loss(model: FusionModel, items: Features, temperature: float) -> torch.Tensor:
    (text, _), (image, _) = model.embed(items)
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
            raise ArtifactError(f"no fusion model at {path} (train one: shopagent train recommender)")
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
