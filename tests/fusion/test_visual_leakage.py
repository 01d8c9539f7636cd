"""Products whose looks are image-only must not leak them anywhere the recommender could read.

The demo store hides a declared fraction of products' visual attributes (color, pattern, shape)
from their text; the recommender's only route to them is then the rendered picture. This checks
every readable field of such products, and the text fusion actually receives.
"""

from __future__ import annotations

import re
from datetime import date

import pytest

from shopagent.agent.recommend import catalog_items, product_text
from shopagent.agent.store.demo import DemoOptions, generate
from shopagent.fusion.render import render_product, save_png

VISUAL_KEYS = ("color", "pattern", "shape")


@pytest.fixture(scope="module")
def store() -> dict:
    return generate(DemoOptions(seed=11, products=60, users=5, hidden_visual_fraction=0.5, today=date(2025, 1, 1)))


def _visual_values(product: dict) -> set[str]:
    values = {str(product["visual"].get(k)) for k in VISUAL_KEYS if product["visual"].get(k)}
    for variant in product["variants"].values():
        values |= {str(v) for k, v in (variant.get("visual") or {}).items() if k in VISUAL_KEYS}
    return values


def _readable(product: dict) -> list[str]:
    """Every field a recommender, an index or a shopper could read (the ``visual`` dicts excepted)."""
    fields = [product["product_id"], product["name"], product.get("category") or "", product.get("description") or ""]
    fields += [f"{k} {v}" for k, v in (product.get("attributes") or {}).items()]
    for item_id, variant in product["variants"].items():
        fields += [item_id, variant.get("image") or ""]
        fields += [f"{k} {v}" for k, v in (variant.get("options") or {}).items()]
    return fields


def _mentions(text: str, value: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text, re.IGNORECASE) is not None


def test_the_declared_fraction_is_hidden(store: dict) -> None:
    hidden = [p for p in store["products"].values() if not p["visual_in_text"]]
    assert 0.35 < len(hidden) / len(store["products"]) < 0.65
    assert all(_visual_values(p) for p in hidden)  # the looks exist, for the picture


def test_hidden_looks_never_reach_text_ids_or_file_names(store: dict, tmp_path) -> None:
    items = {item.product_id: item for item in catalog_items(store["products"].values())}
    for product in store["products"].values():
        if product["visual_in_text"]:
            continue
        image_name = save_png(items[product["product_id"]].image, tmp_path).name
        readable = [*_readable(product), items[product["product_id"]].text, image_name]
        for value in _visual_values(product):
            leaks = [field for field in readable if _mentions(field, value)]
            assert not leaks, f"{product['product_id']}: {value!r} appears in {leaks}"


def test_visible_looks_are_in_the_text(store: dict) -> None:
    for product in store["products"].values():
        if product["visual_in_text"]:
            text = product_text(product)
            assert all(_mentions(text, str(product["visual"][k])) for k in VISUAL_KEYS)


def test_hidden_looks_are_in_the_picture(store: dict) -> None:
    hidden = next(p for p in store["products"].values() if not p["visual_in_text"])
    material = hidden["attributes"]["material"]
    recolored = {**hidden["visual"], "color": "white" if hidden["visual"]["color"] != "white" else "black"}
    assert render_product(hidden["visual"], material, hidden["name"]).tobytes() != render_product(
        recolored, material, hidden["name"]).tobytes()
