"""Query generation and metrics of ``shopagent eval retrieval`` (stand-in encoders: no models)."""

from __future__ import annotations

import random

import numpy as np
from PIL import Image

from shopagent.retrieval.evaluate import (
    _phrases,
    attribute_queries,
    evaluate_store,
    format_results,
    photo_queries,
    reshoot,
)
from shopagent.retrieval.records import ProductDoc

from .conftest import HashingTextEncoder, TinyImageEncoder


def test_attribute_queries_single_out_one_product_without_naming_it(catalog_docs: list[ProductDoc]) -> None:
    queries = attribute_queries(catalog_docs, limit=100)
    assert len({q.target for q in queries}) == len(queries) >= 6
    names = {d.product_id: d.name.lower() for d in catalog_docs}
    for query in queries:
        assert names[query.target] not in query.text
        wanted = set(query.text.split(", "))
        holders = [d.product_id for d in catalog_docs if wanted <= set(_phrases(d))]
        assert holders == [query.target], query


def test_photo_queries_are_held_out(catalog_docs: list[ProductDoc]) -> None:
    queries = photo_queries(catalog_docs, limit=3, seed=1)
    assert len(queries) == 3
    for query in queries:
        indexed = [np.asarray(Image.open(v.image_path).convert("RGB").resize(query.image.size))
                   for v in {d.product_id: d for d in catalog_docs}[query.target].variants if v.image_path]
        assert all(not np.array_equal(np.asarray(query.image), pixels) for pixels in indexed)


def test_reshoot_keeps_size_and_changes_pixels() -> None:
    photo = Image.new("RGB", (64, 64), "white")
    photo.paste((200, 30, 30), (16, 16, 48, 48))
    shot = reshoot(photo, random.Random(0))
    assert shot.size == photo.size and np.asarray(shot).tobytes() != np.asarray(photo).tobytes()


def test_evaluate_store_reports_both_suites(catalog_docs: list[ProductDoc]) -> None:
    results = evaluate_store("hand-made", catalog_docs, HashingTextEncoder(), TinyImageEncoder(), limit=20)
    assert [r.kind for r in results] == ["text attributes", "held-out photos"]
    for r in results:
        assert r.products == 9 and r.queries > 0 and 0 <= r.ndcg_at_10 <= 1 and 0 <= r.recall_at_5 <= 1
    assert results[0].recall_at_5 > results[0].chance_recall_at_5
    assert "| hand-made | text attributes | 9 |" in format_results(results)
