"""Catalog import for a real shop: CSV and JSON Lines, every bad row reported, nothing half-imported."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from shopagent.agent.store.catalog import import_catalog
from shopagent.agent.store.db import is_empty, transaction
from shopagent.agent.store.errors import ImportRejected
from shopagent.agent.store.schema import Product, Variant
from shopagent.agent.store.tau2 import export_tau2

from .helpers import shop_state

CSV = """\
product_id,name,category,description,item_id,price,stock,image,option:size,option:color,attr:material,visual:color
MUG-1,Harbor Mug,Kitchen,A stoneware mug.,MUG-1-S,12.50,4,img/mug-s.png,small,,stoneware,blue
MUG-1,Harbor Mug,Kitchen,A stoneware mug.,MUG-1-L,14.00,0,,large,,stoneware,blue
TEE-9,Linen Tee,Apparel,,TEE-9-M-RED,25,,,M,red,linen,red
"""


def _write(tmp_path: Path, name: str, text: str) -> Path:
    (tmp_path / "img").mkdir(exist_ok=True)
    (tmp_path / "img" / "mug-s.png").write_bytes(b"\x89PNG")
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_csv_import(empty_engine: Engine, tmp_path: Path) -> None:
    summary = import_catalog(empty_engine, _write(tmp_path, "catalog.csv", CSV))
    assert (summary.products, summary.variants, summary.created, summary.updated) == (2, 3, 2, 0)
    products = export_tau2(empty_engine)["products"]
    assert list(products) == ["MUG-1", "TEE-9"]
    assert products["MUG-1"]["variants"]["MUG-1-S"] == {
        "item_id": "MUG-1-S", "options": {"size": "small"}, "available": True, "price": 12.5,
    }
    assert products["MUG-1"]["variants"]["MUG-1-L"]["available"] is False  # no stock
    assert products["TEE-9"]["variants"]["TEE-9-M-RED"]["options"] == {"size": "M", "color": "red"}
    with transaction(empty_engine) as db:
        mug = db.get(Product, "MUG-1")
        assert (mug.category, mug.description) == ("Kitchen", "A stoneware mug.")
        assert mug.attributes == {"material": "stoneware"}
        small = db.get(Variant, "MUG-1-S")
        assert (small.stock, small.visual) == (4, {"color": "blue"})
        assert small.image_path == str((tmp_path / "img" / "mug-s.png").resolve())


def test_jsonl_import_then_update(empty_engine: Engine, tmp_path: Path) -> None:
    lamp = {
        "product_id": "LAMP-2",
        "name": "Dune Lamp",
        "category": "Lighting",
        "visual": {"shape": "domed", "pattern": "solid"},
        "visual_in_text": False,
        "variants": [{"item_id": "LAMP-2-A", "price": 80, "options": {"bulb": "E27"}, "stock": 3}],
    }
    path = _write(tmp_path, "catalog.jsonl", json.dumps(lamp) + "\n\n")
    assert import_catalog(empty_engine, path).created == 1
    lamp["variants"] = [{"item_id": "LAMP-2-A", "price": 75.5, "options": {"bulb": "E27"}, "available": False}]
    path.write_text(json.dumps(lamp))
    summary = import_catalog(empty_engine, path)
    assert (summary.created, summary.updated) == (0, 1)
    variant = export_tau2(empty_engine)["products"]["LAMP-2"]["variants"]["LAMP-2-A"]
    assert (variant["price"], variant["available"]) == (75.5, False)
    with transaction(empty_engine) as db:
        product = db.get(Product, "LAMP-2")
        assert (product.visual_in_text, product.visual["shape"]) == (False, "domed")


HEADER = "product_id,name,item_id,price,stock\nGOOD-1,Good,G-1,10,5\n"  # a valid first row (line 2)
BAD_CSV = {  # rows from line 3 on, and the error expected
    "price": ("MUG-1,Mug,M-1,twelve", "line 3: variants.0.price"),
    "cents": ("MUG-1,Mug,M-1,1.999", "line 3: variants.0.price"),
    "negative stock": ("MUG-1,Mug,M-1,5,-3", "line 3: variants.0.stock"),
    "bad id": ("MUG 1!,Mug,M-1,5", "line 3: product_id"),
    "duplicate item": ("MUG-1,Mug,M-1,5\nMUG-2,Cup,M-1,6", "line 4: item M-1 already given at line 3"),
    "conflicting product": ("MUG-1,Mug,M-1,5\nMUG-1,Cup,M-2,6", "line 4: name differ from line 3"),
    "extra cells": ("MUG-1,Mug,M-1,5,1,2,3", "line 3: more cells than columns"),
}


@pytest.mark.parametrize("problem", list(BAD_CSV))
def test_bad_csv_rows_are_reported_and_nothing_is_imported(empty_engine: Engine, tmp_path: Path, problem: str) -> None:
    rows, expected = BAD_CSV[problem]
    with pytest.raises(ImportRejected) as raised:
        import_catalog(empty_engine, _write(tmp_path, "catalog.csv", HEADER + rows + "\n"))
    assert any(e.startswith(expected) for e in raised.value.errors), raised.value.errors
    assert is_empty(empty_engine)


def test_every_problem_is_reported_at_once(empty_engine: Engine, tmp_path: Path) -> None:
    lines = [
        json.dumps({"product_id": "A", "name": "A", "variants": [{"item_id": "A1", "price": -1}]}),
        "{not json",
        json.dumps({"product_id": "B", "name": "B", "variants": []}),
        json.dumps({"product_id": "C", "name": "C", "variants": [{"item_id": "C1", "price": 1, "image": "nope.png"}]}),
        json.dumps({"product_id": "D", "name": "D", "colour": "red", "variants": [{"item_id": "D1", "price": 1}]}),
        json.dumps({"product_id": "E", "name": "E", "variants": [{"item_id": "E1", "price": 1}]}),  # fine
    ]
    with pytest.raises(ImportRejected) as raised:
        import_catalog(empty_engine, _write(tmp_path, "c.jsonl", "\n".join(lines)))
    assert [e.split(":")[0] for e in raised.value.errors] == ["line 1", "line 2", "line 3", "line 4", "line 5"]
    assert is_empty(empty_engine)


@pytest.mark.parametrize(
    ("name", "text", "error"),
    [
        ("c.csv", "product_id,name,price,colour\n", "line 1: missing column(s): item_id; unknown column(s): colour"),
        ("c.xlsx", "x", "c.xlsx: expected a .csv or .jsonl file"),
    ],
)
def test_header_and_file_type_problems(empty_engine: Engine, tmp_path: Path, name: str, text: str, error: str) -> None:
    with pytest.raises(ImportRejected) as raised:
        import_catalog(empty_engine, _write(tmp_path, name, text))
    assert raised.value.errors == [error]
    assert is_empty(empty_engine)


def test_an_item_cannot_move_to_another_product(tau2_engine: Engine, world, tmp_path: Path) -> None:
    product = next(iter(world.data["products"].values()))
    item = next(iter(product["variants"]))
    path = _write(tmp_path, "c.csv", f"product_id,name,item_id,price\nNEW-1,New,{item},5\n")
    before = shop_state(tau2_engine)
    with pytest.raises(ImportRejected, match=f"already belongs to product {product['product_id']}"):
        import_catalog(tau2_engine, path)
    assert shop_state(tau2_engine) == before
