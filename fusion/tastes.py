"""Synthetic shoppers with latent tastes, for a demo store whose orders carry learnable preference.

Real order logs are private and τ²'s carry almost no preference, so the recommender is measured on
orders sampled here, where the signal is known because it is planted. Each shopper has

- a *visual share* ``s ~ Beta(a, a)``: how much they shop by looks (color, pattern, shape) rather than
  by what the text says (category, material, use); small ``a`` makes most shoppers lean one way;
- per attribute family a weight (``s`` or ``1 - s`` split by a flat Dirichlet) and a liked value.

Each pick is a product drawn with probability ``∝ exp(strength · Σ_f w_f · [product.f is liked]
+ popularity · z_product)``, or, with probability ``noise``, uniformly at random. Everything is a
parameter, and :meth:`TasteSampler.describe` says in words that the data is synthetic.

``values`` restricts which attribute values shoppers may like: ``"dev"`` and ``"eval"`` are disjoint
halves of each family's values, so a method tuned on ``dev`` tastes is reported on tastes it was never
tuned for.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

TEXT_FAMILIES = ("category", "material", "use")
VISUAL_FAMILIES = ("color", "pattern", "shape")

Pick = tuple[str, str]  # (product_id, item_id)


@dataclass(frozen=True)
class TasteConfig:
    orders_per_shopper: tuple[int, int] = (6, 14)  # inclusive range
    items_per_order: tuple[int, int] = (1, 3)
    strength: float = 6.0
    visual_share_concentration: float = 0.5  # Beta(a, a) for the visual share
    popularity: float = 0.5  # spread of a per-product appeal shared by all shoppers
    noise: float = 0.15
    values: Literal["all", "dev", "eval"] = "all"


def product_traits(product: Mapping[str, Any]) -> dict[str, str]:
    """The taste-relevant attributes of a product record (``category``, ``attributes``, ``visual``)."""
    traits = {"category": product.get("category")}
    traits |= {f: (product.get("attributes") or {}).get(f) for f in TEXT_FAMILIES[1:]}
    traits |= {f: (product.get("visual") or {}).get(f) for f in VISUAL_FAMILIES}
    return {family: str(value).lower() for family, value in traits.items() if value}


def value_half(value: str) -> Literal["dev", "eval"]:
    """Which half a value belongs to: fixed by a hash, so it does not depend on the catalog."""
    return "dev" if hashlib.sha256(value.encode()).digest()[0] % 2 == 0 else "eval"


class TasteSampler:
    """Samples orders for shoppers from product records; plug into the demo-store generator.

    After :meth:`sample`, ``planted`` holds each shopper's true pick probabilities (in the order of
    the products given): ranking by them is the best any recommender could do on these orders.
    """

    def __init__(self, config: TasteConfig | None = None) -> None:
        self.config = config or TasteConfig()
        self.planted: dict[str, np.ndarray] = {}

    def describe(self) -> str:
        c = self.config
        return (
            "SYNTHETIC orders: shoppers with planted tastes over text attributes "
            f"({', '.join(TEXT_FAMILIES)}) and visual attributes ({', '.join(VISUAL_FAMILIES)}); "
            f"strength {c.strength}, noise {c.noise}, popularity {c.popularity}, "
            f"visual-share Beta({c.visual_share_concentration}), liked values: {c.values}"
        )

    def sample(
        self, products: Sequence[Mapping[str, Any]], shopper_ids: Sequence[str], rng: np.random.Generator
    ) -> dict[str, list[list[Pick]]]:
        """Orders (oldest first) of ``(product_id, item_id)`` picks for each shopper."""
        c = self.config
        self.planted = {}
        traits = [product_traits(p) for p in products]
        families = TEXT_FAMILIES + VISUAL_FAMILIES
        likeable = {f: self._likeable(sorted({t[f] for t in traits if f in t})) for f in families}
        matches = {f: {v: np.array([t.get(f) == v for t in traits]) for v in vals} for f, vals in likeable.items()}
        items = [[i for i, v in p["variants"].items() if v.get("available", True)] or list(p["variants"])
                 for p in products]
        appeal = c.popularity * rng.standard_normal(len(products))

        orders: dict[str, list[list[Pick]]] = {}
        for shopper in shopper_ids:
            share = rng.beta(c.visual_share_concentration, c.visual_share_concentration)
            weights = np.concatenate([(1 - share) * rng.dirichlet(np.ones(3)), share * rng.dirichlet(np.ones(3))])
            utility = appeal.copy()
            for family, weight in zip(families, weights):
                if likeable[family]:
                    liked = likeable[family][rng.integers(len(likeable[family]))]
                    utility += c.strength * weight * matches[family][liked]
            chance = np.exp(utility - utility.max())
            chance /= chance.sum()
            self.planted[shopper] = (1 - c.noise) * chance + c.noise / len(products)
            orders[shopper] = [
                self._order(chance, products, items, rng)
                for _ in range(rng.integers(c.orders_per_shopper[0], c.orders_per_shopper[1] + 1))
            ]
        return orders

    def _likeable(self, values: list[str]) -> list[str]:
        if self.config.values == "all":
            return values
        half = [v for v in values if value_half(v) == self.config.values]
        return half or values  # a family with one value has nothing to split

    def _order(
        self,
        chance: np.ndarray,
        products: Sequence[Mapping[str, Any]],
        items: list[list[str]],
        rng: np.random.Generator,
    ) -> list[Pick]:
        size = int(rng.integers(self.config.items_per_order[0], self.config.items_per_order[1] + 1))
        picks: list[Pick] = []
        for _ in range(size):
            index = int(rng.integers(len(products)) if rng.random() < self.config.noise
                        else rng.choice(len(products), p=chance))
            picks.append((products[index]["product_id"], items[index][rng.integers(len(items[index]))]))
        return picks
