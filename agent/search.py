"""Product search over the shop's database: the glue between the store and ``shopagent.retrieval``.

Retrieval never reads the database. This module does: it turns store products into
:class:`~shopagent.retrieval.records.ProductDoc` records (text attributes only, honouring
``visual_in_text``; a photo per variant, drawn by the fusion renderer when the shop has none),
answers the live variant check in SQL, and opens the index and searcher from settings.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Collection
from pathlib import Path

from sqlalchemy import func, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import selectinload

from shopagent.agent.store.db import create_engine, migrate, transaction
from shopagent.agent.store.demo import DemoOptions, load_demo
from shopagent.agent.store.policy import load_policy, policy_passages
from shopagent.agent.store.schema import Order, OrderItem, Product, Variant
from shopagent.agent.store.tau2 import data_dir, import_tau2
from shopagent.retrieval.index import CatalogIndex, SyncReport
from shopagent.retrieval.records import PassageDoc, ProductDoc, VariantRecord, content_hash
from shopagent.retrieval.search import SearchFilters, Searcher
from shopagent.settings import Settings

PHOTO_DIR = "renders"  # under data_dir: drawn photos of variants that have none


def category_of(product: Product) -> str:
    """A product's category; τ² products have none, and their name is their type ("T-Shirt")."""
    return product.category or product.name


def variant_photo(product: Product, variant: Variant, folder: Path) -> str:
    """The variant's photo, or a drawing of it from its visual attributes, options and material.

    Drawings are deterministic, so they are cached under a name derived from what they show.
    """
    if variant.image_path:
        return variant.image_path
    from shopagent.fusion.render import render_product

    visual = {**product.visual, **variant.visual}
    if "color" not in visual and "color" in variant.options:
        visual["color"] = variant.options["color"]
    material = product.attributes.get("material") or variant.options.get("material")
    kind = category_of(product)
    path = folder / f"{content_hash(json.dumps([visual, material, kind], sort_keys=True, default=str))}.png"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        render_product(visual, material, kind).save(path)
    return str(path)


def _variant_record(variant: Variant, image_path: str | None = None) -> VariantRecord:
    return VariantRecord(
        item_id=variant.item_id,
        product_id=variant.product_id,
        options={k: str(v) for k, v in variant.options.items()},
        available=variant.available,
        price_cents=variant.price_cents,
        stock=variant.stock,
        image_path=image_path,
    )


def product_docs(
    engine: Engine, photo_dir: Path | None = None, product_ids: Collection[str] | None = None
) -> list[ProductDoc]:
    """Products (all, or ``product_ids``) as retrieval records; with ``photo_dir``, variants get photos."""
    stmt = select(Product).options(selectinload(Product.variants)).order_by(Product.position)
    if product_ids is not None:
        stmt = stmt.where(Product.product_id.in_(list(product_ids)))
    with transaction(engine) as db:
        products = db.scalars(stmt).all()
        return [
            ProductDoc(
                product_id=p.product_id,
                name=p.name,
                category=category_of(p),
                description=p.description,
                attributes={**p.attributes, **(p.visual if p.visual_in_text else {})},
                variants=tuple(
                    _variant_record(v, variant_photo(p, v, photo_dir) if photo_dir else None)
                    for v in p.variants
                ),
            )
            for p in products
        ]


def passage_docs(engine: Engine) -> list[PassageDoc]:
    with transaction(engine) as db:
        policy = load_policy(db)
    return [PassageDoc(p.id, p.title, p.text) for p in policy_passages(policy)]


class ShopCatalog:
    """The live variant check in SQL: what the shop sells right now, never what the index remembers."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def matching_variants(
        self, filters: SearchFilters, product_ids: Collection[str] | None = None
    ) -> dict[str, list[VariantRecord]]:
        stmt = select(Variant, Product.category, Product.name).join(Product).order_by(Variant.position)
        if product_ids is not None:
            stmt = stmt.where(Variant.product_id.in_(list(product_ids)))
        # SQL narrows; SearchFilters decides (exact option matching happens in Python on few rows).
        if filters.category is not None:
            wanted = filters.category.strip().lower()
            stmt = stmt.where(or_(func.lower(Product.category) == wanted, func.lower(Product.name) == wanted))
        if filters.min_price_cents is not None:
            stmt = stmt.where(Variant.price_cents >= filters.min_price_cents)
        if filters.max_price_cents is not None:
            stmt = stmt.where(Variant.price_cents <= filters.max_price_cents)
        if filters.in_stock:
            stmt = stmt.where(Variant.available.is_(True), or_(Variant.stock.is_(None), Variant.stock > 0))
        found: dict[str, list[VariantRecord]] = {}
        with transaction(self.engine) as db:
            for variant, category, name in db.execute(stmt):
                record = _variant_record(variant)
                if filters.matches_product(category, name) and filters.matches_variant(record):
                    found.setdefault(variant.product_id, []).append(record)
        return found


def open_index(settings: Settings, photos: bool = True) -> CatalogIndex:
    """The configured index with the default encoders (the image model only when ``photos``)."""
    from shopagent.fusion.image import ImageEncoder
    from shopagent.fusion.text import TextEncoder

    image_encoder = ImageEncoder.load(settings) if photos else None
    return CatalogIndex.open(settings, TextEncoder.load(settings), image_encoder)


def rebuild_index(
    settings: Settings, engine: Engine, progress: bool = False
) -> tuple[CatalogIndex, SyncReport]:
    """``shopagent index``: drop the index and embed every product text, photo and passage again."""
    index = open_index(settings)
    docs = product_docs(engine, settings.data_dir / PHOTO_DIR)
    return index, index.rebuild(docs, passage_docs(engine), progress=progress)


def refresh_products(
    settings: Settings, index: CatalogIndex, engine: Engine, product_ids: Collection[str]
) -> SyncReport:
    """Re-index products whose text, options or photos changed in the store; gone ones are removed.

    Price, availability and stock changes need no call: search reads them from the store.
    """
    photo_dir = settings.data_dir / PHOTO_DIR if index.image_encoder is not None else None
    docs = product_docs(engine, photo_dir, product_ids)
    return index.update_products(docs, removed=sorted(set(product_ids) - {d.product_id for d in docs}))


def evaluation_catalogs(settings: Settings, demo_products: int, photos: bool) -> dict[str, list[ProductDoc]]:
    """The demo store and (when its data is present) the τ² store as retrieval records.

    Each is loaded into a throw-away database, never the configured one. Drawn photos are cached
    under ``data_dir`` so a second run skips drawing them.
    """
    loaders = {"demo": lambda e: load_demo(e, DemoOptions(products=demo_products, users=1))}
    if (data_dir() / "db.json").is_file():
        loaders["τ²"] = lambda e: import_tau2(e, data_dir() / "db.json")
    photo_dir = settings.data_dir / PHOTO_DIR if photos else None
    catalogs = {}
    with tempfile.TemporaryDirectory(prefix="shopagent-eval-") as tmp:
        for name, load in loaders.items():
            engine = create_engine(f"sqlite:///{Path(tmp) / f'{len(catalogs)}.db'}")
            migrate(engine)
            load(engine)
            catalogs[name] = product_docs(engine, photo_dir)
            engine.dispose()
    return catalogs


def purchase_history(engine: Engine, user_id: str) -> tuple[str, ...]:
    """Product ids of everything the user ordered, oldest order first (what personalises search)."""
    stmt = (
        select(OrderItem.product_id)
        .join(Order, Order.order_id == OrderItem.order_id)
        .where(Order.user_id == user_id)
        .order_by(Order.position, OrderItem.position)
    )
    with transaction(engine) as db:
        return tuple(db.scalars(stmt))


def warm_searcher(settings: Settings) -> Searcher:
    """Warm-up step: open the index and bring product texts and passages up to date with the shop.

    Unchanged records are skipped, so this costs seconds after the first run. Photos are indexed by
    ``shopagent index`` only: drawing and encoding one per variant takes minutes on a small CPU.
    With a trained recommender (``shopagent train-recommender``) results are re-ranked for the
    signed-in shopper's purchases; without one they keep the index's order.
    """
    from shopagent.agent.recommend import load_reranker  # imports the fusion model (torch)

    engine = create_engine(settings.database_url)
    index = open_index(settings)
    index.sync(product_docs(engine), passage_docs(engine), photos=False)
    return Searcher(index, ShopCatalog(engine), load_reranker(engine, settings))
