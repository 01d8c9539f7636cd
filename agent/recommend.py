"""Product recommendations for the agent: the glue between the shop's data and ``shopagent.fusion``.

Fusion sees plain records only. This module decides what of a product is public (its text: name,
category, description, text attributes, options, and its visual attributes only when
``visual_in_text``), gives every product a picture (its own file, else one drawn from its attributes),
turns orders into timestamped interactions, and runs the evaluations behind
``shopagent eval recommend``.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import selectinload

from shopagent.agent.store.db import create_engine, migrate, transaction
from shopagent.agent.store.demo import CATEGORIES, COLORS, PATTERNS, DemoOptions, generate
from shopagent.agent.store.schema import Order, Product
from shopagent.agent.store.tau2 import data_dir as tau2_data_dir
from shopagent.fusion.evaluate import (
    METHODS,
    Interaction,
    Result,
    ablation_table,
    evaluate_split,
    format_table,
    last_order_split,
    orders_by_user,
    probe_rows,
    random_combinations,
    recommend_table,
    summarise,
    training_pool,
    verdict,
)
from shopagent.fusion.features import CatalogItem, catalog_features, encode_images
from shopagent.fusion.image import ImageInput
from shopagent.fusion.model import Features, FusionConfig
from shopagent.fusion.render import render_product, resolve_texture
from shopagent.fusion.scorer import FusionScorer
from shopagent.fusion.tastes import TasteConfig, TasteSampler
from shopagent.fusion.train import (
    Artifact,
    ArtifactError,
    TrainConfig,
    artifact_root,
    load_artifact,
    save_artifact,
    train_model,
)
from shopagent.logs import get_logger
from shopagent.settings import Settings

if TYPE_CHECKING:
    from shopagent.retrieval.search import Hit, SearchQuery

log = get_logger(__name__)

Record = Mapping[str, Any]


# --- catalog -------------------------------------------------------------------------------------


def product_text(product: Record) -> str:
    """Everything a shopper can read about a product; looks only when the shop states them in text."""
    parts = [product["name"]]
    if product.get("category"):
        parts.append(f"Category: {product['category']}.")
    if product.get("description"):
        parts.append(product["description"])
    parts += [f"{key}: {value}." for key, value in (product.get("attributes") or {}).items()]
    options: dict[str, list[str]] = {}
    for variant in product["variants"].values():
        for axis, value in (variant.get("options") or {}).items():
            options.setdefault(axis, [])
            if str(value) not in options[axis]:
                options[axis].append(str(value))
    parts += [f"{axis}: {', '.join(values)}." for axis, values in options.items()]
    if product.get("visual_in_text", True):
        parts += [f"{key}: {value}." for key, value in (product.get("visual") or {}).items() if value]
    return " ".join(parts)


def product_image(product: Record, image_root: Path | None = None) -> ImageInput:
    """The first variant's own picture if it has one on disk, else one drawn from the attributes."""
    variants = list(product["variants"].values())
    for variant in variants:
        if variant.get("image"):
            path = Path(variant["image"])
            path = path if path.is_absolute() or image_root is None else image_root / path
            if path.is_file():
                return path
    first = variants[0] if variants else {}
    options = first.get("options") or {}
    visual = {**(product.get("visual") or {}), **(first.get("visual") or {})}
    if "color" not in visual and "color" in options:  # τ²: the color is a variant option
        visual["color"] = options["color"]
    material = (product.get("attributes") or {}).get("material") or options.get("material")
    return render_product(visual, material, kind=product["name"])


def catalog_items(products: Iterable[Record], image_root: Path | None = None) -> list[CatalogItem]:
    return [
        CatalogItem(p["product_id"], p["name"], product_text(p), product_image(p, image_root)) for p in products
    ]


def interactions_from_records(data: Mapping[str, Mapping[str, Record]]) -> list[Interaction]:
    """One interaction per ordered item; an order's time is ``placed_at`` or its place in the user's list."""
    orders = data["orders"]
    rows = []
    for user in data["users"].values():
        for position, order_id in enumerate(user["orders"]):
            order = orders[order_id]
            when = order.get("placed_at") or position
            rows += [Interaction(user["user_id"], item["product_id"], when) for item in order["items"]]
    return rows


def read_store(engine: Engine) -> tuple[list[dict[str, Any]], list[Interaction]]:
    """Product records (with shop extensions) and interactions from a store database."""
    with transaction(engine) as db:
        products = db.scalars(select(Product).options(selectinload(Product.variants)).order_by(Product.position))
        records = [
            {
                "product_id": p.product_id,
                "name": p.name,
                "category": p.category,
                "description": p.description,
                "attributes": dict(p.attributes),
                "visual": dict(p.visual),
                "visual_in_text": p.visual_in_text,
                "variants": {
                    v.item_id: {"item_id": v.item_id, "options": dict(v.options), "available": v.available,
                                "image": v.image_path, "visual": dict(v.visual)}
                    for v in p.variants
                },
            }
            for p in products
        ]
        orders = db.scalars(select(Order).options(selectinload(Order.items)).order_by(Order.position))
        interactions = [
            Interaction(o.user_id, item.product_id, o.placed_at.isoformat() if o.placed_at else f"{o.position:09d}")
            for o in orders
            for item in o.items
        ]
    return records, interactions


def interactions_from_csv(path: Path, products: Sequence[Record]) -> list[Interaction]:
    """A shop's own log: columns ``user``, ``item`` (an item id or a product id), ``timestamp``.

    Rows that name neither a known item nor a known product are dropped (the catalog decides what can
    be recommended).
    """
    owner = {item_id: p["product_id"] for p in products for item_id in p["variants"]}
    owner |= {p["product_id"]: p["product_id"] for p in products}
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = {"user", "item", "timestamp"} - set(reader.fieldnames or ())
        if missing:
            raise ValueError(f"{path}: missing column(s) {', '.join(sorted(missing))}")
        return [
            Interaction(row["user"], owner[row["item"]], row["timestamp"]) for row in reader if row["item"] in owner
        ]


# --- evaluation ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoEvaluation:
    fractions: tuple[float, ...] = (0.0, 0.5, 0.9)
    seeds: tuple[int, ...] = (101, 102, 103)  # development used 1 and 2
    products: int = 500  # the demo store's default: a long tail, where content matters
    users: int = 300
    taste: TasteConfig = TasteConfig(values="eval")


def _features(items: Sequence[CatalogItem], settings: Settings, progress: bool) -> Features:
    text, image = catalog_features(items, settings, progress)
    return Features.full(torch.from_numpy(text), torch.from_numpy(image))


def evaluate_interactions(
    products: Sequence[Record],
    interactions: Sequence[Interaction],
    settings: Settings,
    train: TrainConfig,
    seeds: Sequence[int] = (0, 1, 2),
    methods: Sequence[str] = METHODS,
    image_root: Path | None = None,
    progress: bool = False,
    workers: int | None = None,
) -> tuple[dict[str, tuple[float, float]], int]:
    """One shop's data: spread is over training seeds. Returns the summary and the shoppers evaluated.

    ``workers``: processes training side by side (:func:`training_pool`; 1: this process only)."""
    items = catalog_items(products, image_root)
    features = _features(items, settings, progress)
    split = last_order_split(orders_by_user(interactions, {it.product_id: i for i, it in enumerate(items)}))
    with training_pool(workers) as pool:
        results = [evaluate_split(split, features, replace(train, seed=s), methods=methods, pool=pool) for s in seeds]
    return summarise(results), len(split.target)


def evaluate_demo(
    plan: DemoEvaluation, settings: Settings, train: TrainConfig, progress: bool = False, workers: int | None = None
) -> dict[float, dict[str, tuple[float, float]]]:
    """Generated demo stores with taste-sampled orders; spread is over generator seeds.

    ``workers``: processes training side by side (:func:`training_pool`; 1: this process only)."""
    out = {}
    with training_pool(workers) as pool:
        for fraction in plan.fractions:
            results: list[Result] = []
            for seed in plan.seeds:
                options = DemoOptions(seed=seed, products=plan.products, users=plan.users,
                                      hidden_visual_fraction=fraction)
                sampler = TasteSampler(plan.taste)
                data = generate(options, sampler)
                items = catalog_items(data["products"].values())
                features = _features(items, settings, progress)
                index = {it.product_id: i for i, it in enumerate(items)}
                split = last_order_split(orders_by_user(interactions_from_records(data), index))
                planted = np.stack([sampler.planted[user] for user in split.users])
                known = {"planted tastes": planted}
                results.append(evaluate_split(split, features, replace(train, seed=seed), known=known,
                                              progress=progress, pool=pool))
            out[fraction] = summarise(results)
    return out


def demo_report(plan: DemoEvaluation, summaries: Mapping[float, Mapping[str, tuple[float, float]]]) -> str:
    lines = [
        f"Demo store: {plan.products} products, {plan.users} shoppers, generator seeds {list(plan.seeds)}.",
        TasteSampler(plan.taste).describe(),
        "Last-order prediction; mean ± standard deviation over generator seeds.",
    ]
    for fraction, summary in summaries.items():
        lines += ["", f"## image-only fraction {fraction:g}", recommend_table(summary), "",
                  ablation_table(summary), "", verdict(summary)]
    return "\n".join(lines)


def store_data(
    store: str, settings: Settings, interactions_csv: Path | None = None
) -> tuple[list[dict[str, Any]], list[Interaction], str]:
    """Products, interactions and a description for ``eval recommend --store``: ``tau2`` (read in
    place), ``configured`` (the shop database) or an SQLAlchemy URL; a CSV log replaces the orders."""
    if store == "tau2":
        path = tau2_data_dir() / "db.json"
        if not path.is_file():
            raise ValueError(f"τ² data not found at {path} (set SHOPAGENT_TAU2_DIR)")
        data = json.loads(path.read_text())
        records, interactions, source = list(data["products"].values()), interactions_from_records(data), "τ² store"
    else:
        engine = create_engine(settings.database_url if store == "configured" else store)
        migrate(engine)
        (records, interactions), source = read_store(engine), f"store {engine.url.render_as_string()}"
    if interactions_csv is not None:
        interactions, source = interactions_from_csv(interactions_csv, records), f"{source} with log {interactions_csv}"
    return records, interactions, source


def probe_report(settings: Settings, samples: int, seed: int) -> str:
    """Linear-probe table of image features on pictures drawn from the demo store's vocabulary."""
    kinds = [kind for group in CATEGORIES.values() for kind in group]
    vocabulary = {
        "color": list(COLORS),
        "pattern": list(PATTERNS),
        "shape": sorted({shape for kind in kinds for shape in kind.shapes}),
        "material": sorted({material for kind in kinds for material in kind.materials}),
    }
    combos = random_combinations(vocabulary, samples, seed)
    features = encode_images([render_product(c, c["material"]) for c in combos], settings, progress=True)
    labels = {name: [c[name] for c in combos] for name in vocabulary}
    labels["material as drawn (texture)"] = [str(resolve_texture(c["material"])) for c in combos]
    rows = probe_rows(features, labels, seed)
    return "\n".join([
        f"Linear probe: logistic regression on EfficientNet-Lite0 features of {samples} rendered pictures,",
        "values drawn evenly from the demo store's vocabulary; accuracy ± spread over 5 folds.",
        format_table(["attribute", "values", "majority", "accuracy"], rows),
    ])


# --- serving -------------------------------------------------------------------------------------


def train_recommender(
    engine: Engine, settings: Settings, config: FusionConfig = FusionConfig(), train: TrainConfig = TrainConfig()
) -> Path:
    """Train on every order in the store and save a new artifact version; returns its folder."""
    products, interactions = read_store(engine)
    items = catalog_items(products)
    histories = list(orders_by_user(interactions, {it.product_id: i for i, it in enumerate(items)}).values())
    model = train_model(config, train, _features(items, settings, progress=True), histories, progress=True)
    meta = {"shoppers": len(histories), "interactions": len(interactions)}
    return save_artifact(Artifact(model, [it.product_id for it in items], train, meta), artifact_root(settings))


def load_scorer(engine: Engine, settings: Settings) -> FusionScorer:
    """The newest trained model over the store's current catalog (new products rank by content)."""
    products, _ = read_store(engine)
    return FusionScorer(load_artifact(artifact_root(settings)), catalog_items(products), settings)


class FusionReranker:
    """Search re-ranking by the fusion scorer for a shopper with purchases (``query.history``).

    Without purchases the retrieval order stands: the query is then all the scorer would have, and
    the index already ranks by it. Hits the scorer does not know (products added since it loaded)
    keep their retrieval order after the ones it ranked.
    """

    def __init__(self, scorer: FusionScorer) -> None:
        self.scorer = scorer

    def rerank(self, query: SearchQuery, hits: list[Hit]) -> list[Hit]:
        if not query.history or not hits:
            return hits
        by_id = {hit.product_id: hit for hit in hits}
        ranked = self.scorer.rank(query=query.text, image=query.image, history=query.history,
                                  candidates=list(by_id), k=len(by_id))
        reordered = [replace(by_id[r.product_id], reason=r.reason) for r in ranked]
        seen = {hit.product_id for hit in reordered}
        return reordered + [hit for hit in hits if hit.product_id not in seen]


def load_reranker(engine: Engine, settings: Settings) -> FusionReranker | None:
    """The personalising re-ranker when a trained model exists (``shopagent train-recommender``)."""
    try:
        scorer = load_scorer(engine, settings)
    except ArtifactError as exc:
        log.info("search_not_personalised", reason=str(exc))
        return None
    log.info("search_personalised", products=len(scorer.catalog))
    return FusionReranker(scorer)
