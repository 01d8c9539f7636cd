"""The glue (``shopagent.agent.search``): store rows become retrieval records, and the SQL live check
agrees exactly with :class:`SearchFilters` and sees database changes at once."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import update

from shopagent.agent.search import ShopCatalog, passage_docs, product_docs, refresh_products
from shopagent.agent.store.db import create_engine, migrate, transaction
from shopagent.agent.store.demo import DemoOptions, load_demo
from shopagent.agent.store.schema import Product, Variant
from shopagent.retrieval.search import InMemoryCatalog, SearchFilters, Searcher, SearchQuery
from shopagent.settings import Settings

from .conftest import Backend, HashingTextEncoder


@pytest.fixture(scope="module")
def demo_engine(tmp_path_factory: pytest.TempPathFactory):
    engine = create_engine(f"sqlite:///{tmp_path_factory.mktemp('shop') / 'shop.db'}")
    migrate(engine)
    load_demo(engine, DemoOptions(seed=3, products=30, users=1))
    return engine


def test_records_keep_hidden_visual_attributes_out_of_text(demo_engine) -> None:
    docs = product_docs(demo_engine)
    assert len(docs) == 30 and all(d.variants for d in docs)
    hidden = [d for d in docs if "color" not in d.option_values()]
    assert hidden, "the demo store hides colour from the text of some products"
    for doc in hidden:
        assert "pattern" not in doc.attributes and "shape" not in doc.attributes
    assert {p.title for p in passage_docs(demo_engine)}


def test_sql_live_check_matches_the_filter_semantics(demo_engine) -> None:
    docs = product_docs(demo_engine)
    sample = docs[0].variants[0]
    some_option = next(iter(sample.options.items()))
    filters = [
        SearchFilters(),
        SearchFilters(in_stock=True),
        SearchFilters(category=docs[1].category.upper()),
        SearchFilters(category=docs[2].name),
        SearchFilters(min_price_cents=2000, max_price_cents=6000, in_stock=True),
        SearchFilters(options={some_option[0].title(): some_option[1].upper()}),
        SearchFilters(options={"color": "red", "size": "M"}, in_stock=True),
    ]
    sql, memory = ShopCatalog(demo_engine), InMemoryCatalog(docs)
    for f in filters:
        assert sql.matching_variants(f) == memory.matching_variants(f), f
        ids = [d.product_id for d in docs[:7]]
        assert sql.matching_variants(f, ids) == memory.matching_variants(f, ids), f


def test_stock_written_to_the_database_is_seen_by_the_next_search(demo_engine, backend: Backend) -> None:
    docs = product_docs(demo_engine)
    index = backend.index(HashingTextEncoder())
    index.sync(docs)
    searcher = Searcher(index, ShopCatalog(demo_engine))
    target = docs[5]
    query = SearchQuery(text=target.text, filters=SearchFilters(in_stock=True), k=3)
    assert searcher.search(query)[0].product_id == target.product_id
    with transaction(demo_engine, write=True) as db:
        db.execute(update(Variant).where(Variant.product_id == target.product_id).values(stock=0))
    try:
        assert target.product_id not in {h.product_id for h in searcher.search(query)}
    finally:
        with transaction(demo_engine, write=True) as db:
            for v in target.variants:
                db.execute(update(Variant).where(Variant.item_id == v.item_id).values(stock=v.stock))


def test_variants_without_photos_get_cached_drawings(demo_engine, tmp_path: Path) -> None:
    docs = product_docs(demo_engine, tmp_path / "renders")
    paths = [v.image_path for d in docs[:5] for v in d.variants]
    assert all(p and Path(p).is_file() for p in paths)
    assert len(set(paths)) < len(paths)  # sizes of one colour share a drawing
    mtimes = [Path(p).stat().st_mtime_ns for p in paths]
    product_docs(demo_engine, tmp_path / "renders")
    assert [Path(p).stat().st_mtime_ns for p in paths] == mtimes


def test_refresh_reindexes_changed_products_and_drops_gone_ones(backend: Backend, tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'shop.db'}")
    migrate(engine)
    load_demo(engine, DemoOptions(seed=4, products=10, users=1))
    docs = product_docs(engine)
    index = backend.index(HashingTextEncoder())
    index.sync(docs)
    edited, dropped = docs[0].product_id, docs[1].product_id
    with transaction(engine, write=True) as db:
        db.get(Product, edited).description = "Shaped like a zeppelin."
        db.delete(db.get(Product, dropped))
    settings = Settings(data_dir=tmp_path / "data", llm="none")
    report = refresh_products(settings, index, engine, [edited, dropped])
    assert report.embedded == {"products": 1} and report.deleted["products"] == 1
    assert index.count("products") == 9
    hits = Searcher(index, ShopCatalog(engine)).search(SearchQuery(text="zeppelin", k=1))
    assert hits[0].product_id == edited
