"""Retrieval quality: query → product Recall@5 and NDCG@10 on queries generated from a catalog.

Each query has exactly one right product, so Recall@5 is the share of queries whose product is in the
top 5, and NDCG@10 rewards it by rank (1 at rank 1, 1/log2(r+1) at rank r ≤ 10, else 0).

- Text queries come from a product's text attributes and option values, never its name or category:
  the smallest set of values (two if possible) that no other product has all of, so the answer is
  unambiguous, e.g. "organic cotton, a kangaroo pocket, XL size".
- Photo queries are held out: a variant's indexed photo re-shot (scaled, turned, moved, relit, on a
  tinted background, softened), so the query's pixels are never in the index.
"""

from __future__ import annotations

import math
import random
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

import numpy as np
from PIL import Image, ImageEnhance, ImageFilter

from shopagent.retrieval.index import CatalogIndex, Encoder
from shopagent.retrieval.records import ProductDoc
from shopagent.retrieval.search import InMemoryCatalog, Searcher, SearchQuery
from shopagent.retrieval.store import open_client
from shopagent.settings import Settings

RECALL_AT, NDCG_AT = 5, 10


@dataclass(frozen=True)
class EvalQuery:
    target: str  # the one right product_id
    text: str | None = None
    image: Image.Image | None = None


@dataclass(frozen=True)
class EvalResult:
    store: str
    kind: str
    products: int
    queries: int
    recall_at_5: float
    ndcg_at_10: float

    @property
    def chance_recall_at_5(self) -> float:
        return min(1.0, RECALL_AT / max(1, self.products))


def _phrases(doc: ProductDoc) -> list[str]:
    """Attribute values as written, and option values with their option name ("XL size")."""
    phrases: dict[str, None] = {}
    for value in doc.attributes.values():
        for item in value if isinstance(value, (list, tuple)) else [value]:
            phrases[str(item).strip().lower()] = None
    for key, values in doc.option_values().items():
        for value in values:
            phrases[f"{value} {key}".strip().lower()] = None
    return [p for p in phrases if p]


def attribute_queries(docs: Sequence[ProductDoc], limit: int, seed: int = 0) -> list[EvalQuery]:
    """Up to ``limit`` text queries, one per product, each naming values only that product has."""
    rng = random.Random(seed)
    phrases = {d.product_id: _phrases(d) for d in docs}
    holders: dict[str, set[str]] = {}
    for product_id, values in phrases.items():
        for value in values:
            holders.setdefault(value, set()).add(product_id)
    queries = []
    for doc in rng.sample(list(docs), k=len(docs)):
        values = phrases[doc.product_id]
        for size in (2, 3, 1):
            combos = list(combinations(values, size))
            rng.shuffle(combos)
            unique = next(
                (c for c in combos[:200] if set.intersection(*(holders[v] for v in c)) == {doc.product_id}),
                None,
            )
            if unique:
                queries.append(EvalQuery(doc.product_id, text=", ".join(unique)))
                break
        if len(queries) == limit:
            break
    return queries


def reshoot(photo: Image.Image, rng: random.Random) -> Image.Image:
    """The same product photographed again: smaller, turned, off-centre, relit, on another backdrop."""
    photo = photo.convert("RGB")
    width, height = photo.size
    scale = rng.uniform(0.7, 0.92)
    small = photo.resize((max(1, int(width * scale)), max(1, int(height * scale))), Image.Resampling.BICUBIC)
    # Cut the product out of its white backdrop before turning it.
    mask = Image.fromarray((np.asarray(small).min(axis=2) < 245).astype(np.uint8) * 255)
    angle = rng.uniform(-15, 15)
    small, mask = small.rotate(angle, expand=True, fillcolor="white"), mask.rotate(angle, expand=True)
    backdrop = tuple(rng.randint(215, 255) for _ in range(3))
    shot = Image.new("RGB", (width, height), backdrop)
    x = (width - small.width) // 2 + rng.randint(-width // 10, width // 10)
    y = (height - small.height) // 2 + rng.randint(-height // 10, height // 10)
    shot.paste(small, (x, y), mask)
    shot = ImageEnhance.Brightness(shot).enhance(rng.uniform(0.85, 1.15))
    return shot.filter(ImageFilter.GaussianBlur(rng.uniform(0.3, 1.0)))


def photo_queries(docs: Sequence[ProductDoc], limit: int, seed: int = 0) -> list[EvalQuery]:
    """Up to ``limit`` held-out photo queries, one per product, from a random variant's photo."""
    rng = random.Random(seed)
    queries = []
    for doc in rng.sample(list(docs), k=len(docs)):
        with_photos = [v for v in doc.variants if v.image_path]
        if with_photos:
            with Image.open(rng.choice(with_photos).image_path) as photo:
                queries.append(EvalQuery(doc.product_id, image=reshoot(photo, rng)))
        if len(queries) == limit:
            break
    return queries


def score(searcher: Searcher, queries: Sequence[EvalQuery]) -> tuple[float, float]:
    """Mean Recall@5 and NDCG@10 over ``queries``."""
    recall, ndcg = [], []
    for query in queries:
        hits = searcher.search(SearchQuery(text=query.text, image=query.image, k=NDCG_AT))
        ranked = [h.product_id for h in hits]
        rank = ranked.index(query.target) + 1 if query.target in ranked else None
        recall.append(rank is not None and rank <= RECALL_AT)
        ndcg.append(1 / math.log2(rank + 1) if rank else 0.0)
    return float(np.mean(recall)) if queries else 0.0, float(np.mean(ndcg)) if queries else 0.0


def evaluate_store(
    name: str,
    docs: Sequence[ProductDoc],
    text_encoder: Encoder,
    image_encoder: Encoder | None,
    limit: int = 200,
    seed: int = 0,
    progress: bool = False,
) -> list[EvalResult]:
    """Index ``docs`` in a throw-away embedded Chroma (never the shop's index) and score text-attribute
    queries, and held-out photo queries when there is an image encoder."""
    with tempfile.TemporaryDirectory(prefix="shopagent-eval-") as tmp:
        client = open_client(Settings(data_dir=tmp, chroma_path=tmp, chroma_url=None))
        index = CatalogIndex(client, text_encoder, image_encoder, namespace="eval")
        index.sync(docs, progress=progress)
        searcher = Searcher(index, InMemoryCatalog(docs))
        suites = [("text attributes", attribute_queries(docs, limit, seed))]
        if image_encoder is not None:
            suites.append(("held-out photos", photo_queries(docs, limit, seed)))
        return [
            EvalResult(name, kind, len(docs), len(queries), *score(searcher, queries))
            for kind, queries in suites
        ]


def format_results(results: Sequence[EvalResult]) -> str:
    """A Markdown table."""
    lines = [
        "| store | query kind | products | queries | Recall@5 | NDCG@10 | chance R@5 |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    lines += [
        f"| {r.store} | {r.kind} | {r.products} | {r.queries} | {r.recall_at_5:.3f} | "
        f"{r.ndcg_at_10:.3f} | {r.chance_recall_at_5:.3f} |"
        for r in results
    ]
    return "\n".join(lines)
