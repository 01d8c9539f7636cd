"""Ranking products for one shopper with a trained fusion model, with a short reason for each.

The shopper's context is whatever is known: a text query, a photo, the products they bought. The
query and photo join the purchases as context elements; together they count as much as the whole
purchase history, because what a shopper asks for now matters more than what they bought before.

The reason names the channel that contributed most to the product's score (attention weight times
similarity) and the context element it is closest to there: the query, the photo, or a past purchase.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch

from shopagent.fusion.features import CatalogItem, catalog_features
from shopagent.fusion.image import ImageEncoder, ImageInput
from shopagent.fusion.model import Features
from shopagent.fusion.text import TextEncoder
from shopagent.fusion.train import Artifact
from shopagent.settings import Settings

CHANNEL_WORDS = {("text",): "description", ("image",): "look", ("text", "image"): "description and look"}


@dataclass(frozen=True)
class Ranked:
    product_id: str
    title: str
    score: float
    reason: str


class FusionScorer:
    """Ranks a catalog's products; features of the catalog are computed (or read from cache) once."""

    def __init__(self, artifact: Artifact, catalog: Sequence[CatalogItem], settings: Settings) -> None:
        self.model = artifact.model
        self.settings = settings
        self.catalog = list(catalog)
        self.index = {item.product_id: i for i, item in enumerate(self.catalog)}
        text, image = catalog_features(self.catalog, settings)
        self.items = Features.full(torch.from_numpy(text), torch.from_numpy(image))
        prior_rows = {pid: i for i, pid in enumerate(artifact.product_ids)}
        self.bias_index = torch.tensor([prior_rows.get(item.product_id, -1) for item in self.catalog])
        self.channels = [CHANNEL_WORDS[c] for c in self.model.config.channels]

    def rank(
        self,
        query: str | None = None,
        image: ImageInput | None = None,
        history: Sequence[str] = (),
        candidates: Sequence[str] | None = None,
        k: int = 10,
    ) -> list[Ranked]:
        """The ``k`` best ``candidates`` (default: the whole catalog), best first.

        ``history`` holds product ids the shopper bought (repeats count; unknown ids are ignored).
        Raises :class:`~shopagent.fusion.image.ImageError` for an unusable photo.
        """
        pool = [self.index[c] for c in dict.fromkeys(candidates or self.index) if c in self.index]
        bought = [self.index[p] for p in history if p in self.index]
        extra, labels = self._extra(query, image)
        membership = torch.zeros(1, len(pool) + len(bought) + len(labels))
        membership[0, len(pool) : len(pool) + len(bought)] = 1.0
        membership[0, len(pool) + len(bought) :] = max(1.0, float(len(bought))) / max(1, len(labels))
        # Candidates, then purchases, then query elements: one forward pass embeds them all.
        rows = torch.tensor(pool + bought, dtype=torch.long)
        items = Features(self.items.text[rows], self.items.image[rows], self.items.present[rows])
        context = _concat(items, extra) if extra is not None else items
        with torch.inference_mode():
            scores = self.model(items, membership, extra, self.bias_index[rows])
            embedded = self.model.embed(context)
        logits = scores.logits[0, : len(pool)].numpy()
        contribution = (scores.weights * scores.channel)[0, : len(pool)].numpy()
        order = np.argsort(-logits, kind="stable")[:k]
        names = [f"the {self.catalog[i].title} you bought" for i in bought] + labels
        return [
            Ranked(
                self.catalog[pool[j]].product_id,
                self.catalog[pool[j]].title,
                float(logits[j]),
                self._reason(j, len(pool), contribution[j], scores.weights[0, j].numpy(), embedded, names),
            )
            for j in order
        ]

    def _extra(self, query: str | None, image: ImageInput | None) -> tuple[Features | None, list[str]]:
        text_rows, image_rows, present, labels = [], [], [], []
        if query and query.strip():
            # Encoded directly, not through the feature cache: queries are many and used once.
            text_rows.append(torch.from_numpy(TextEncoder.load(self.settings).encode([query.strip()])[0]))
            image_rows.append(self.model.image_mean)
            present.append([True, False])
            labels.append(f'your search "{query.strip()}"')
        if image is not None:
            encoded = ImageEncoder.load(self.settings).encode([image])[0]
            text_rows.append(self.model.text_mean)
            image_rows.append(torch.from_numpy(encoded))
            present.append([False, True])
            labels.append("your photo")
        if not labels:
            return None, []
        return Features(torch.stack(text_rows), torch.stack(image_rows), torch.tensor(present)), labels

    def _reason(
        self,
        j: int,
        num_candidates: int,
        contribution: np.ndarray,
        weights: np.ndarray,
        embedded: list[tuple[torch.Tensor, torch.Tensor]],
        names: list[str],
    ) -> str:
        if not names:
            return "popular in this shop"
        channel = int(np.argmax(contribution))
        vectors, usable = embedded[channel]
        similarity = (vectors[num_candidates:] @ vectors[j]).masked_fill(~usable[num_candidates:], -2.0)
        nearest = names[int(similarity.argmax())]
        share = f" ({self.channels[channel]} weight {weights[channel]:.0%})" if len(self.channels) > 1 else ""
        return f"{self.channels[channel]} close to {nearest}{share}"


def _concat(a: Features, b: Features) -> Features:
    return Features(torch.cat([a.text, b.text]), torch.cat([a.image, b.image]), torch.cat([a.present, b.present]))
