"""The service's index over a real (small) demo store: warm-up sync, `shopagent index` rebuild, photos."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from PIL import Image

from shopagent.agent.search import ShopCatalog, open_index, product_docs, rebuild_index, warm_searcher
from shopagent.agent.store.db import create_engine, migrate
from shopagent.agent.store.demo import DemoOptions, load_demo
from shopagent.retrieval.evaluate import reshoot
from shopagent.retrieval.search import SearchFilters, Searcher, SearchQuery
from shopagent.settings import Settings

pytestmark = pytest.mark.slow


@pytest.fixture
def shop_settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data", llm="none")
    settings.ensure_dirs()
    engine = create_engine(settings.database_url)
    migrate(engine)
    load_demo(engine, DemoOptions(seed=5, products=6, users=1))
    return settings


def test_warm_up_indexes_texts_and_passages_once(shop_settings: Settings) -> None:
    searcher = warm_searcher(shop_settings)
    docs = product_docs(searcher.catalog.engine)
    assert searcher.index.count("products") == len(docs) and searcher.index.count("passages") > 0
    hoodie = next(d for d in docs if "Hoodie" in d.name)
    hits = searcher.search(SearchQuery(text=hoodie.description or hoodie.name, filters=SearchFilters(in_stock=True)))
    assert hits[0].product_id == hoodie.product_id and all(v.in_stock for v in hits[0].variants)
    assert searcher.passages("can I return an item?", k=1)[0].text
    again = searcher.index.sync(docs, photos=False)
    assert again.embedded == {"products": 0}


def test_rebuild_indexes_photos_and_finds_a_reshot_variant(shop_settings: Settings) -> None:
    engine = create_engine(shop_settings.database_url)
    index, report = rebuild_index(shop_settings, engine)
    assert report.embedded["products"] == 6 and report.embedded["images"] > 6
    docs = product_docs(engine, shop_settings.data_dir / "renders")
    target = docs[3]
    with Image.open(target.variants[0].image_path) as photo:
        shot = reshoot(photo, random.Random(1))
    hits = Searcher(index, ShopCatalog(engine)).search(SearchQuery(image=shot, k=5))
    assert target.product_id in [h.product_id for h in hits]
    assert open_index(shop_settings, photos=False).count("images") == report.embedded["images"]
