"""Product search personalised by the fusion scorer: real encoders, real Chroma, a tiny planted store.

Half the shoppers buy only wool things, half only cotton things, in equal numbers, so no product is
more popular than its twin: only a shopper's own purchases can decide between the wool and the cotton
scarf that a search for "a scarf" finds.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from shopagent.agent.answers import catalog_variants
from shopagent.agent.build import CatalogSearch
from shopagent.agent.recommend import train_recommender
from shopagent.agent.search import purchase_history, warm_searcher
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import import_tau2
from shopagent.fusion.train import TrainConfig
from shopagent.settings import Settings

pytestmark = pytest.mark.slow

KINDS = ("Scarf", "Beanie", "Socks", "Sweater", "Mittens")
MATERIALS = {"wool": "Merino Wool", "cotton": "Organic Cotton"}
ADDRESS = {"address1": "1 Pine Rd", "address2": "", "city": "Bend", "country": "USA", "state": "OR", "zip": "97701"}


def _planted_store() -> dict[str, Any]:
    products = {}
    for m, (material, words) in enumerate(MATERIALS.items()):
        for k, kind in enumerate(KINDS):
            pid = f"{m + 1}{k:02d}"
            item = {"item_id": f"{pid}0000001", "options": {"material": material}, "available": True, "price": 30.0}
            products[pid] = {"name": f"{words} {kind}", "product_id": pid, "variants": {item["item_id"]: item}}
    users, orders = {}, {}
    for u in range(16):
        material = list(MATERIALS)[u % 2]
        mine = [p for p in products.values() if p["variants"][next(iter(p["variants"]))]["options"]["material"] == material]
        user_id = f"shopper_{u}"
        ids = []
        for o in range(3):  # three orders of two products, rotating so every product is bought equally
            order_id = f"#W{u:03d}{o:04d}"
            picked = [mine[(u // 2 + o * 2 + j) % len(mine)] for j in range(2)]
            items = [{"name": p["name"], "product_id": p["product_id"], "item_id": next(iter(p["variants"])),
                      "price": 30.0, "options": {"material": material}} for p in picked]
            orders[order_id] = {"order_id": order_id, "user_id": user_id, "address": ADDRESS, "items": items,
                                "status": "delivered", "fulfillments": [], "payment_history": [
                                    {"transaction_type": "payment", "amount": 60.0, "payment_method_id": f"paypal_{u}"}]}
            ids.append(order_id)
        users[user_id] = {"user_id": user_id, "name": {"first_name": "Shopper", "last_name": str(u)},
                          "address": ADDRESS, "email": f"{user_id}@example.com",
                          "payment_methods": {f"paypal_{u}": {"source": "paypal", "id": f"paypal_{u}"}}, "orders": ids}
    return {"products": products, "users": users, "orders": orders}


@pytest.fixture(scope="module")
def planted(tmp_path_factory: pytest.TempPathFactory) -> tuple[Settings, Shop]:
    folder = tmp_path_factory.mktemp("rerank")
    (folder / "db.json").write_text(json.dumps(_planted_store()))
    settings = Settings(data_dir=folder / "data", store_url=f"sqlite:///{folder / 'shop.db'}", llm="none", threads_torch=2)
    settings.ensure_dirs()
    shop = Shop.open(settings.database_url)
    import_tau2(shop.engine, folder / "db.json")
    return settings, shop


def _search(settings: Settings, shop: Shop) -> CatalogSearch:
    return CatalogSearch(warm_searcher(settings), catalog_variants(shop.engine), shop)


def test_purchases_reorder_search_in_the_planted_direction(planted: tuple[Settings, Shop]) -> None:
    settings, shop = planted
    plain = _search(settings, shop)
    assert plain.searcher.reranker is None  # no trained model yet: the index's order, with filter reasons
    before = plain.products("a scarf", "shopper_0", k=2)
    assert {c.name for c in before} == {"Merino Wool Scarf", "Organic Cotton Scarf"}
    assert all(c.reason.startswith("matches") for c in before)

    train_recommender(shop.engine, settings, train=TrainConfig(steps=60, eval_every=10))
    search = _search(settings, shop)
    assert search.searcher.reranker is not None
    wool, cotton = "shopper_0", "shopper_1"  # even shoppers bought wool only, odd ones cotton only
    assert set(purchase_history(shop.engine, wool)) <= {p for p in _planted_store()["products"] if p.startswith("1")}
    for user_id, first in ((wool, "Merino Wool Scarf"), (cotton, "Organic Cotton Scarf")):
        cards = search.products("a scarf", user_id, k=2)
        assert [c.name for c in cards][0] == first, user_id
        assert all(" close to " in c.reason for c in cards)  # the scorer's reason is on the card
    # Someone who bought nothing gets the index's order, unchanged.
    assert [c.name for c in search.products("a scarf", None, k=2)] == [c.name for c in before]
