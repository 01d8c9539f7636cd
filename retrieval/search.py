"""Product search: nearest neighbours from the index, truth from the shop.

The index ranks; the shop decides. Every candidate is checked against the live catalog
(:class:`Catalog`, the shop's database in the service) with the structured :class:`SearchFilters`,
at variant level: "red, size M, in stock" means one variant that is red *and* M *and* in stock. Price,
availability and stock are never read from the index, so a result can never be stale.

Strategy: fetch ``OVERSAMPLE`` times more neighbours than wanted and keep those the catalog confirms;
if too few survive, fetch ``OVERSAMPLE`` times more again. A filter still short after ``WIDENINGS``
tries is selective: then the catalog lists every matching product and only those are ranked (by
exact cosine when at most ``EXACT_MAX``, else by HNSW restricted to them), so a selective filter
costs a few more queries but never misses a match. An optional :class:`Reranker` (the fusion scorer) reorders a deeper pool.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from shopagent.retrieval.index import CatalogIndex, Kind, Row
from shopagent.retrieval.records import PassageHit, ProductDoc, VariantRecord

OVERSAMPLE = 4  # neighbours fetched per wanted hit before the live check, and growth per widening
WIDENINGS = 3  # filtered searches that come up short this often rank the catalog's matches instead
EXACT_MAX = 1000  # matching products ranked by exact cosine rather than filtered HNSW
RERANK_POOL = 5  # with a re-ranker: hits handed to it per hit finally returned


def _norm(value: object) -> str:
    return str(value).strip().casefold()


@dataclass(frozen=True)
class SearchFilters:
    """Structured constraints; every one must hold, options and stock on the *same* variant.

    Text comparisons ignore case and surrounding spaces. Prices are in cents and inclusive. The
    language parser (``shopagent.agent.entities``) produces these; search never guesses them.
    """

    category: str | None = None
    min_price_cents: int | None = None
    max_price_cents: int | None = None
    options: Mapping[str, str] = field(default_factory=dict)
    in_stock: bool = False

    @property
    def empty(self) -> bool:
        return self == SearchFilters()

    def matches_product(self, category: str | None, name: str) -> bool:
        """``category`` may name a category or one product: shoppers say "t-shirts" and "the Elm Scarf"."""
        if self.category is None:
            return True
        return _norm(self.category) in {_norm(name)} | ({_norm(category)} if category else set())

    def matches_variant(self, variant: VariantRecord) -> bool:
        if self.in_stock and not variant.in_stock:
            return False
        if self.min_price_cents is not None and variant.price_cents < self.min_price_cents:
            return False
        if self.max_price_cents is not None and variant.price_cents > self.max_price_cents:
            return False
        options = {_norm(k): _norm(v) for k, v in variant.options.items()}
        return all(options.get(_norm(k)) == _norm(v) for k, v in self.options.items())


class Catalog(Protocol):
    """The live check: the shop's current variants that satisfy ``filters``."""

    def matching_variants(
        self, filters: SearchFilters, product_ids: Collection[str] | None = None
    ) -> dict[str, list[VariantRecord]]:
        """Matching variants grouped by product, for ``product_ids`` (every product when None).

        Products with no matching variant, or no longer in the shop, are absent.
        """
        ...


class InMemoryCatalog:
    """A :class:`Catalog` over product records in memory (evaluation stores, tests)."""

    def __init__(self, products: Iterable[ProductDoc]) -> None:
        self.products = {p.product_id: p for p in products}

    def matching_variants(
        self, filters: SearchFilters, product_ids: Collection[str] | None = None
    ) -> dict[str, list[VariantRecord]]:
        ids = self.products.keys() if product_ids is None else product_ids
        found = {}
        for product_id in ids:
            product = self.products.get(product_id)
            if product is None or not filters.matches_product(product.category, product.name):
                continue
            variants = [v for v in product.variants if filters.matches_variant(v)]
            if variants:
                found[product_id] = variants
        return found


@dataclass(frozen=True)
class SearchQuery:
    """Exactly one of ``text`` or ``image`` (a photo: PIL image, file path or bytes), plus filters.

    ``history`` holds the product ids the shopper bought (oldest first): only a personalising
    :class:`Reranker` reads it; the index ranks by the query alone.
    """

    text: str | None = None
    image: Image.Image | Path | str | bytes | None = None
    filters: SearchFilters = SearchFilters()
    k: int = 10
    history: tuple[str, ...] = ()


@dataclass(frozen=True)
class Hit:
    """A product and its live variants that satisfy the filters.

    ``score`` is the cosine similarity of the query to the product's text, or to its best-matching
    variant photo; for photo queries the variants whose photos matched come first, best first.
    ``reason`` is a re-ranker's short explanation of the hit's place, when one reordered it.
    """

    product_id: str
    name: str
    score: float
    variants: tuple[VariantRecord, ...]
    reason: str | None = None


class Reranker(Protocol):
    """Reorders a pool of hits (e.g. the fusion scorer, personalised by ``query.history``); it may
    set each hit's ``reason`` and must keep every hit."""

    def rerank(self, query: SearchQuery, hits: list[Hit]) -> list[Hit]: ...


class PhotosNotIndexed(RuntimeError):
    """A photo query on an index whose photos were never built (start-up indexes texts only)."""


class Searcher:
    def __init__(self, index: CatalogIndex, catalog: Catalog, reranker: Reranker | None = None) -> None:
        self.index = index
        self.catalog = catalog
        self.reranker = reranker

    def search(self, query: SearchQuery) -> list[Hit]:
        """The ``query.k`` best products satisfying ``query.filters``, best first."""
        if (query.text is None) == (query.image is None):
            raise ValueError("give exactly one of text or image")
        if query.text is not None:
            kind: Kind = "products"
            vector = self.index.encode_text(query.text)
        else:
            kind, vector = "images", self.index.encode_image(query.image)
        want = query.k * RERANK_POOL if self.reranker else query.k
        hits = self.search_vector(kind, vector, query.filters, want)
        if self.reranker is not None:
            hits = self.reranker.rerank(query, hits)
        return hits[: query.k]

    def passages(self, text: str, k: int = 3) -> list[PassageHit]:
        """Policy/FAQ passages closest to a question."""
        return self.index.passages(self.index.encode_text(text), k)

    def search_vector(self, kind: Kind, vector: np.ndarray, filters: SearchFilters, k: int) -> list[Hit]:
        """The ``k`` best products for a query vector already in ``kind``'s space (no re-ranking)."""
        n, widenings = k * OVERSAMPLE, 0
        if kind == "images":  # photos are per variant: a product may fill several neighbours
            photos, products = self.index.count("images"), self.index.count("products")
            if photos == 0 and products:
                raise PhotosNotIndexed("no product photos are indexed yet: run `shopagent index`")
            n *= max(1, math.ceil(photos / max(1, products)))
        while True:
            rows = self.index.query(kind, vector, n)
            live = self.catalog.matching_variants(filters, {row.product_id for row in rows})
            hits = _hits(rows, live)
            if len(hits) >= k:
                return hits[:k]
            # HNSW returns fewer than asked once it has seen all it can reach (not always everything).
            exhausted = len(rows) < n
            widenings += 1
            if not filters.empty and (exhausted or widenings == WIDENINGS):
                return self._rank_matches(kind, vector, filters, n)[:k]
            if exhausted:
                return hits
            # Too few left after the check (a filter, or products the shop dropped): look further.
            n *= OVERSAMPLE

    def _rank_matches(self, kind: Kind, vector: np.ndarray, filters: SearchFilters, n: int) -> list[Hit]:
        """Rank only the products the shop says match: exactly when few (Chroma's filtered HNSW
        search can miss far-off records when few are allowed), else by HNSW restricted to them."""
        live = self.catalog.matching_variants(filters)
        if len(live) <= EXACT_MAX:
            return _hits(self.index.rank_exactly(kind, vector, live.keys()), live)
        return _hits(self.index.query(kind, vector, n, live.keys()), live)


def _hits(rows: list[Row], live: dict[str, list[VariantRecord]]) -> list[Hit]:
    """Group neighbours by product (best first), keeping products with live matching variants."""
    best: dict[str, Row] = {}
    matched: dict[str, list[str]] = {}
    for row in rows:
        if row.product_id in live:
            best.setdefault(row.product_id, row)
            matched.setdefault(row.product_id, []).append(row.record_id)
    hits = []
    for product_id, row in best.items():
        rank = {item_id: i for i, item_id in enumerate(matched[product_id])}
        variants = sorted(live[product_id], key=lambda v: rank.get(v.item_id, len(rank)))
        hits.append(Hit(product_id, row.metadata.get("name", ""), row.score, tuple(variants)))
    return hits
