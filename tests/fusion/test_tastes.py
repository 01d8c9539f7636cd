"""The taste-based order sampler: planted preferences show in the orders, reproducibly."""

from __future__ import annotations

import numpy as np

from shopagent.fusion.tastes import TasteConfig, TasteSampler, product_traits, value_half

COLORS = ("red", "blue", "green", "black")
CATEGORIES = ("Kitchen", "Garden")


def catalog(n: int = 40) -> list[dict]:
    return [
        {
            "product_id": f"p{i}",
            "category": CATEGORIES[i % 2],
            "attributes": {"material": ("oak", "steel")[i // 2 % 2], "use": "daily"},
            "visual": {"color": COLORS[i % 4], "pattern": ("solid", "striped")[i // 4 % 2], "shape": "round"},
            "variants": {f"i{i}a": {"available": True}, f"i{i}b": {"available": False}},
        }
        for i in range(n)
    ]


def test_same_seed_same_orders() -> None:
    a = TasteSampler().sample(catalog(), ["u1", "u2"], np.random.default_rng(3))
    b = TasteSampler().sample(catalog(), ["u1", "u2"], np.random.default_rng(3))
    assert a == b
    for orders in a.values():
        assert 6 <= len(orders) <= 14 and all(1 <= len(o) <= 3 for o in orders)
        assert all(item.endswith("a") for order in orders for _, item in order)  # available variants only


def test_orders_follow_the_planted_tastes() -> None:
    products = catalog()
    sampler = TasteSampler(TasteConfig(strength=12.0, noise=0.0, popularity=0.0, orders_per_shopper=(30, 30)))
    orders = sampler.sample(products, [f"u{i}" for i in range(20)], np.random.default_rng(0))
    index = {p["product_id"]: i for i, p in enumerate(products)}
    for shopper, shopper_orders in orders.items():
        picks = [index[pid] for order in shopper_orders for pid, _ in order]
        favourite = int(np.argmax(sampler.planted[shopper]))
        # A shopper keeps buying what they were planted to like, not a spread over the catalog.
        assert sampler.planted[shopper][picks].mean() > 2 / len(products)
        assert favourite in picks
        assert np.isclose(sampler.planted[shopper].sum(), 1.0)


def test_noise_is_uniform_picking() -> None:
    products = catalog()
    sampler = TasteSampler(TasteConfig(noise=1.0, orders_per_shopper=(50, 50), items_per_order=(1, 1)))
    orders = sampler.sample(products, ["u"], np.random.default_rng(1))
    assert len({pid for order in orders["u"] for pid, _ in order}) > 25
    assert np.allclose(sampler.planted["u"], 1 / len(products))


def test_dev_and_eval_values_are_disjoint_halves() -> None:
    values = [f"value {i}" for i in range(40)]
    dev = {v for v in values if value_half(v) == "dev"}
    assert 0 < len(dev) < len(values)
    assert TasteSampler(TasteConfig(values="dev"))._likeable(values) == [v for v in values if v in dev]
    assert set(TasteSampler(TasteConfig(values="eval"))._likeable(values)).isdisjoint(dev)


def test_traits_and_description() -> None:
    assert product_traits(catalog()[0]) == {
        "category": "kitchen", "material": "oak", "use": "daily", "color": "red", "pattern": "solid", "shape": "round"}
    assert "SYNTHETIC" in TasteSampler().describe()
