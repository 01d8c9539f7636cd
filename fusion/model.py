"""The fusion recommender and its baselines, as one family of small PyTorch modules.

Every variant scores a (shopper context, product) pair the same way at heart: products are embedded
per *channel* by a projection of their features into a shared ``dim``-space, the shopper's context
(past purchases, a text query, a photo) is the mean of its embeddings in that channel, and a channel's
score is the cosine between the two. The variants differ only in their channels and how the channel
scores combine, so a comparison between them measures the combination, not incidental differences:

- ``text`` / ``image``: one channel over one modality.
- ``concat``: one channel over the concatenated text and image features (early fusion).
- ``fixed``: a text and an image channel, added with two learned global weights (late fusion).
- ``attention``: the same two channels, weighted per shopper and product by softmax attention
  computed from the context and the product (the seed's ``α·text + β·image``).

A context element that lacks a modality (a text query has no image) is left out of the channels that
need that modality; the ``concat`` channel fills the missing half with the catalog mean.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

import torch
from torch import nn
from torch.nn import functional as F

Kind = Literal["text", "image", "concat", "fixed", "attention"]
KINDS: tuple[Kind, ...] = ("text", "image", "concat", "fixed", "attention")
MODALITIES = ("text", "image")


@dataclass(frozen=True)
class FusionConfig:
    """Architecture options (saved with the weights, so a model rebuilds from its artifact)."""

    kind: Kind = "attention"
    text_dim: int = 384
    image_dim: int = 1280
    dim: int = 64
    attention_hidden: int = 32
    dropout: float = 0.1
    item_bias: bool = True  # a learned per-product prior (what popularity captures)

    @property
    def channels(self) -> tuple[tuple[str, ...], ...]:
        """The modalities each channel reads."""
        return {
            "text": (("text",),),
            "image": (("image",),),
            "concat": (("text", "image"),),
            "fixed": (("text",), ("image",)),
            "attention": (("text",), ("image",)),
        }[self.kind]

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Features:
    """Per-product (or per-context-element) features; a row of ``present`` False means "not given"."""

    text: torch.Tensor  # (n, text_dim)
    image: torch.Tensor  # (n, image_dim)
    present: torch.Tensor  # (n, 2) bool: text, image

    @classmethod
    def full(cls, text: torch.Tensor, image: torch.Tensor) -> "Features":
        return cls(text, image, torch.ones(len(text), 2, dtype=torch.bool))


@dataclass
class Scores:
    """Combined logits and what went into them, for ranking and for explaining a ranking."""

    logits: torch.Tensor  # (users, items)
    channel: torch.Tensor  # (users, items, channels) cosine per channel
    weights: torch.Tensor  # (users, items, channels) the weight each channel got
    items: list[torch.Tensor]  # per channel (items, dim): the product embeddings that were scored


class Channel(nn.Module):
    """Embeds some modalities of a product in the shared space (unit vectors).

    Each modality is normalised to unit length (so in ``concat`` the 384-d text weighs as much as the
    1280-d image), the catalog mean is subtracted, and the result is projected twice: onto the
    catalog's top principal components (fixed when the catalog is set), plus a learned linear map
    that starts at zero. A fresh model therefore ranks by the encoders' own similarity, and training
    only moves away from it as far as the orders justify; a free projection instead learns each
    product's identity from a few hundred shoppers and stops generalising by content.
    """

    def __init__(self, modalities: tuple[str, ...], config: FusionConfig) -> None:
        super().__init__()
        self.modalities = modalities
        widths = [config.text_dim if m == "text" else config.image_dim for m in modalities]
        self.norms = nn.ModuleList(nn.LayerNorm(w, elementwise_affine=False) for w in widths)
        self.dropout = nn.Dropout(config.dropout)
        self.project = nn.Linear(sum(widths), config.dim)
        nn.init.zeros_(self.project.weight)
        self.register_buffer("center", torch.zeros(sum(widths)))
        self.register_buffer("basis", torch.zeros(sum(widths), config.dim))

    def inputs(self, features: Features, mean: Features) -> tuple[torch.Tensor, torch.Tensor]:
        """Normalised input rows and which rows carry any of this channel's modalities."""
        parts, usable = [], torch.zeros(len(features.text), dtype=torch.bool)
        for modality, norm in zip(self.modalities, self.norms):
            present = features.present[:, MODALITIES.index(modality)]
            value = torch.where(present[:, None], getattr(features, modality), getattr(mean, modality))
            parts.append(norm(value) / value.shape[1] ** 0.5)
            usable |= present
        return torch.cat(parts, dim=1), usable

    def set_catalog(self, features: Features, mean: Features) -> None:
        rows, _ = self.inputs(features, mean)
        self.center.copy_(rows.mean(dim=0))
        _, _, components = torch.linalg.svd(rows - self.center, full_matrices=False)
        k = min(self.basis.shape[1], len(components))
        self.basis.zero_()
        self.basis[:, :k] = components[:k].T

    def forward(self, features: Features, mean: Features) -> tuple[torch.Tensor, torch.Tensor]:
        """Unit embeddings ``(n, dim)`` and which rows carry any of this channel's modalities."""
        rows, usable = self.inputs(features, mean)
        centred = rows - self.center
        return F.normalize(centred @ self.basis + self.project(self.dropout(centred)), dim=1), usable


class FusionModel(nn.Module):
    """Scores every product for a batch of shopper contexts; see the module docstring."""

    def __init__(self, config: FusionConfig, num_items: int) -> None:
        super().__init__()
        self.config = config
        self.channels = nn.ModuleList(Channel(m, config) for m in config.channels)
        self.log_scale = nn.Parameter(torch.tensor(2.3))  # cosines in [-1, 1] → logits (≈ ×10)
        self.bias = nn.Parameter(torch.zeros(num_items)) if config.item_bias else None
        n = len(self.channels)
        if config.kind == "fixed":
            self.mix = nn.Parameter(torch.zeros(n))
        if config.kind == "attention":
            h = config.attention_hidden
            # Additive attention over a few cues rather than whole embeddings (which let it memorise
            # shoppers): per channel, how consistent the context is and how many elements it has;
            # the channel cosines; and, for context and product, how well their text and image
            # embeddings agree, which catalog self-supervision makes high when a text describes what
            # the picture shows (and low for a product whose looks are only in its picture).
            self.att_context = nn.Linear(n * 2 + 1, h)
            self.att_item = nn.Linear(1, h, bias=False)
            self.att_scores = nn.Linear(n, h, bias=False)
            self.att_out = nn.Linear(h, n)
            # Starting from zero, attention begins as a fixed mix and departs from it only where the
            # orders show that some shoppers or products are better read through one modality.
            nn.init.zeros_(self.att_out.weight)
        # Catalog means, used for missing modalities; set by ``set_catalog``.
        self.register_buffer("text_mean", torch.zeros(config.text_dim))
        self.register_buffer("image_mean", torch.zeros(config.image_dim))

    def set_catalog(self, items: Features) -> None:
        """Fix what depends on the catalog: modality means, and each channel's centre and basis."""
        self.text_mean.copy_(items.text.mean(dim=0))
        self.image_mean.copy_(items.image.mean(dim=0))
        for channel in self.channels:
            channel.set_catalog(items, self.mean)

    @property
    def mean(self) -> Features:
        return Features(self.text_mean[None], self.image_mean[None], torch.ones(1, 2, dtype=torch.bool))

    def embed(self, features: Features) -> list[tuple[torch.Tensor, torch.Tensor]]:
        return [channel(features, self.mean) for channel in self.channels]

    def forward(
        self,
        items: Features,
        membership: torch.Tensor,
        extra: Features | None = None,
        bias_index: torch.Tensor | None = None,
    ) -> Scores:
        """Score all ``items`` for each shopper.

        A shopper's context is a weighted set of the ``items`` (their past purchases) followed by
        ``extra`` elements (a query text or photo): ``membership`` ``(users, items + extra)`` gives
        each element's weight in each context. ``bias_index`` maps items to rows of the learned
        prior when they are not the training catalog in order (-1: a product it never saw).
        """
        item_emb = self.embed(items)
        context_emb = item_emb
        if extra is not None:
            context_emb = [
                (torch.cat([e, x]), torch.cat([u, v])) for (e, u), (x, v) in zip(item_emb, self.embed(extra))
            ]
        cosines, contexts, strengths = [], [], []
        for (items_c, _), (ctx_c, usable) in zip(item_emb, context_emb):
            weights = membership * usable[None].to(membership.dtype)
            total = weights.sum(dim=1, keepdim=True).clamp(min=1e-9)
            pooled = weights @ ctx_c / total  # mean of unit vectors: its length says how consistent
            contexts.append(F.normalize(pooled, dim=1))
            strengths.append(torch.cat([pooled.norm(dim=1, keepdim=True), torch.log1p(total)], dim=1))
            cosines.append(contexts[-1] @ items_c.T)
        channel = torch.stack(cosines, dim=-1)  # (users, items, channels)
        weights = self._weights(contexts, strengths, [e for e, _ in item_emb], channel)
        logits = self.log_scale.exp() * (weights * channel).sum(dim=-1)
        if self.bias is not None:
            if bias_index is None:
                logits = logits + self.bias[None]
            else:
                known = bias_index >= 0
                logits = logits + torch.where(known, self.bias[bias_index.clamp(min=0)], 0.0)[None]
        return Scores(logits, channel, weights, [e for e, _ in item_emb])

    def _weights(
        self,
        contexts: list[torch.Tensor],
        strengths: list[torch.Tensor],
        items: list[torch.Tensor],
        channel: torch.Tensor,
    ) -> torch.Tensor:
        users, num_items, n = channel.shape
        if self.config.kind == "fixed":
            return torch.softmax(self.mix, dim=0).expand(users, num_items, n)
        if self.config.kind != "attention":
            return torch.ones_like(channel)
        context_agreement = (contexts[0] * contexts[1]).sum(dim=1, keepdim=True)
        item_agreement = (items[0] * items[1]).sum(dim=1, keepdim=True)
        context_part = self.att_context(torch.cat([*strengths, context_agreement], dim=1))  # (users, h)
        item_part = self.att_item(item_agreement)  # (items, h)
        hidden = torch.tanh(context_part[:, None] + item_part[None] + self.att_scores(channel))
        return torch.softmax(self.att_out(hidden), dim=-1)
