"""The demo store: deterministic, varied, every order status, hidden visuals, nothing from τ²."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

import numpy as np
import pytest
from sqlalchemy.engine import Engine

from shopagent.agent.store.demo import DemoOptions, OrderSampler, generate, load_demo, prepare_store
from shopagent.agent.store.errors import PolicyViolation
from shopagent.agent.store.policy import DEMO_POLICY
from shopagent.agent.store.schema import ORDER_STATUSES
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2, validate

from .conftest import Clock, Databases
from .helpers import World, apply

OPTIONS = DemoOptions(seed=7, today=date(2026, 1, 15))  # the test clock's day


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    return generate(OPTIONS)


def _tau2_shape(data: dict[str, Any]) -> dict[str, Any]:
    """The demo records without the shop extensions (what the τ² validator knows)."""
    def keep(record: dict, drop: tuple[str, ...]) -> dict:
        return {k: v for k, v in record.items() if k not in drop}

    return {
        "products": {
            k: keep(p, ("category", "description", "attributes", "visual", "visual_in_text"))
            | {"variants": {i: keep(v, ("stock", "visual")) for i, v in p["variants"].items()}}
            for k, p in data["products"].items()
        },
        "users": data["users"],
        "orders": {k: keep(o, ("placed_at", "delivered_at")) for k, o in data["orders"].items()},
    }


def test_the_same_options_give_the_same_store(demo: dict[str, Any]) -> None:
    assert json.dumps(generate(OPTIONS), default=str) == json.dumps(demo, default=str)
    assert generate(replace(OPTIONS, seed=8))["products"].keys() != demo["products"].keys()


def test_size_variety_and_shape(demo: dict[str, Any]) -> None:
    products = list(demo["products"].values())
    assert len(products) >= 500
    assert len({p["category"] for p in products}) >= 10
    assert len({p["name"] for p in products}) == len(products)
    for p in products:
        assert p["description"].count(". ") >= 2 and p["name"] in p["description"]
        assert {"material", "use"} <= set(p["attributes"]) and {"color", "pattern", "shape"} <= set(p["visual"])
        assert len(p["variants"]) >= 2 and sum(v["available"] for v in p["variants"].values()) >= 2
        for v in p["variants"].values():
            assert v["options"] and v["price"] > 0 and v["stock"] >= 0 and v["available"] == (v["stock"] > 0)
    assert validate(_tau2_shape(demo)) == []


def test_orders_in_every_status_and_consistent(demo: dict[str, Any]) -> None:
    orders = list(demo["orders"].values())
    assert {o["status"] for o in orders} == set(ORDER_STATUSES)
    for o in orders:
        items = [i["item_id"] for i in o["items"]]
        kinds = [p["transaction_type"] for p in o["payment_history"]]
        if o["status"] == "cancelled":
            assert o["cancel_reason"] in DEMO_POLICY.cancel_reasons and kinds == ["payment", "refund"]
        if o["status"] == "return requested":
            assert set(o["return_items"]) <= set(items)
        if o["status"] == "exchange requested":
            new = o["exchange_new_items"][0]
            old = next(i for i in o["items"] if i["item_id"] == o["exchange_items"][0])
            assert new in demo["products"][old["product_id"]]["variants"]
        if o["status"] == "pending (item modified)":
            assert len(kinds) == 2
        assert ("delivered_at" in o) == (o["status"] in ("delivered", "return requested", "exchange requested"))


def _words(value: str, text: str) -> bool:
    return re.search(rf"\b{re.escape(value.lower())}\b", text.lower()) is not None


def test_hidden_visual_attributes_never_reach_text(demo: dict[str, Any]) -> None:
    products = list(demo["products"].values())
    hidden = [p for p in products if not p["visual_in_text"]]
    assert 0.1 < len(hidden) / len(products) < 0.3
    for p in hidden:
        text = json.dumps(
            [p["name"], p["product_id"], p["description"], p["category"], p["attributes"],
             [[i, v["options"], v.get("image")] for i, v in p["variants"].items()]]
        )
        assert not [value for value in p["visual"].values() if _words(value, text)], p
        assert all(not v["visual"] for v in p["variants"].values())


def test_visible_products_describe_their_looks(demo: dict[str, Any]) -> None:
    for p in (p for p in demo["products"].values() if p["visual_in_text"]):
        assert _words(p["visual"]["shape"], p["description"])
        for v in p["variants"].values():
            assert v["options"]["color"] == v["visual"]["color"] and _words(v["visual"]["color"], p["description"])


def test_nothing_is_copied_from_tau2(demo: dict[str, Any], world: World) -> None:
    tau2 = world.data
    assert not {p["name"] for p in demo["products"].values()} & {p["name"] for p in tau2["products"].values()}
    assert not set(demo["products"]) & set(tau2["products"])
    ours = {i for p in demo["products"].values() for i in p["variants"]}
    assert not ours & {i for p in tau2["products"].values() for i in p["variants"]}
    assert not set(demo["users"]) & set(tau2["users"])
    assert not {u["email"] for u in demo["users"].values()} & {u["email"] for u in tau2["users"].values()}
    streets = {u["address"]["address1"] for u in tau2["users"].values()}
    assert not {u["address"]["address1"] for u in demo["users"].values()} & streets


class OnlyFirstProduct:
    """A stand-in sampler: every shopper buys the first product's first available variant, twice."""

    def sample(
        self, products: Sequence[Mapping[str, Any]], shopper_ids: Sequence[str], rng: np.random.Generator
    ) -> dict[str, list[list[tuple[str, str]]]]:
        first = products[0]
        item = next(i for i, v in first["variants"].items() if v["available"])
        return {s: [[(first["product_id"], item)]] * 2 for s in shopper_ids}


def test_the_order_sampler_is_pluggable() -> None:
    sampler: OrderSampler = OnlyFirstProduct()
    data = generate(replace(OPTIONS, products=20, users=5), sampler)
    first = next(iter(data["products"]))
    assert len(data["orders"]) == 10
    assert {i["product_id"] for o in data["orders"].values() for i in o["items"]} == {first}
    assert all(len(u["orders"]) == 2 for u in data["users"].values())


def test_loaded_demo_store_serves_customers(empty_engine: Engine, clock: Clock) -> None:
    summary = load_demo(empty_engine, replace(OPTIONS, products=60, users=80))
    assert (summary.products, summary.users) == (60, 80)
    shop = Shop(empty_engine, clock=clock)
    assert shop.policy == DEMO_POLICY
    exported = export_tau2(empty_engine)
    generated = generate(replace(OPTIONS, products=60, users=80))["orders"].values()
    orders = [o for o in generated if o["status"] == "delivered"]
    recent = next(o for o in orders if (clock.now - o["delivered_at"]).days < 30)
    old = next(o for o in orders if (clock.now - o["delivered_at"]).days > 30)
    for order, allowed in ((recent, True), (old, False)):
        user = exported["users"][order["user_id"]]
        session = shop.session()
        session.find_user_id_by_email(user["email"])
        args = {
            "order_id": order["order_id"],
            "item_ids": [order["items"][0]["item_id"]],
            "payment_method_id": order["payment_history"][0]["payment_method_id"],
        }
        if allowed:
            assert apply(session, "return_delivered_order_items", **args)["status"] == "return requested"
        else:
            with pytest.raises(PolicyViolation, match="30-day return window"):
                session.preview("return_delivered_order_items", args)


def test_warm_up_step_migrates_and_seeds_once(databases: Databases) -> None:
    name = databases.create()  # a bare database: no schema yet
    try:
        shop = prepare_store(databases.url(name))
        first = export_tau2(shop.engine)
        assert len(first["products"]) == 500 and shop.policy == DEMO_POLICY
        shop.engine.dispose()
        again = prepare_store(databases.url(name))
        assert export_tau2(again.engine) == first  # an existing store is never reseeded
        again.engine.dispose()
    finally:
        databases.drop(name)
