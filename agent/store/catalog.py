"""Import a real shop's catalog (products, variants, prices, stock, images) from CSV or JSON Lines.

Every row is validated before anything is written, and all problems are reported together with their
line numbers; the catalog is then written in one transaction, so a file is imported completely or not
at all. A product in the file is inserted, or replaced whole (with its variants) if its id exists;
products not in the file are kept. Orders keep their own copies of names, prices and options.

CSV: one row per variant. Columns ``product_id``, ``name``, ``item_id``, ``price`` are required;
``category``, ``description``, ``stock``, ``available``, ``image``, ``visual_in_text`` are optional,
and prefixed columns add variant options (``option:size``), product text attributes
(``attr:material``) and variant visual attributes (``visual:color``, ``visual:pattern``,
``visual:shape``). Product-level cells must agree across a product's rows.

JSON Lines: one product per line, ``{"product_id", "name", "category"?, "description"?,
"attributes"?, "visual"?, "visual_in_text"?, "variants": [{"item_id", "price", "options"?, "stock"?,
"available"?, "image"?, "visual"?}]}``.

Image paths are resolved against the catalog file's folder and must exist. A variant without an
explicit ``available`` is available when its stock is positive (or unknown).
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator
from sqlalchemy import delete, select
from sqlalchemy.engine import Engine

from shopagent.agent.store.db import transaction
from shopagent.agent.store.errors import ImportRejected
from shopagent.agent.store.records import Rows, insert_rows, product_rows
from shopagent.agent.store.schema import Product, Variant, to_cents

Id = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Text = Annotated[str, Field(min_length=1, max_length=200)]
_PRODUCT_COLUMNS = ("product_id", "name", "category", "description", "visual_in_text")
_VARIANT_COLUMNS = ("item_id", "price", "stock", "available", "image")
_PREFIXES = {"option": ("variant", "options"), "visual": ("variant", "visual"), "attr": ("product", "attributes")}


class _Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_id: Id
    price: float = Field(ge=0, le=1_000_000)
    options: dict[Text, Text] = {}
    stock: int | None = Field(default=None, ge=0)
    available: bool | None = None
    image: str | None = None
    visual: dict[Text, Text] = {}

    @field_validator("price")
    @classmethod
    def _whole_cents(cls, value: float) -> float:
        to_cents(value)  # raises ValueError for fractions of a cent
        return value


class _Product(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product_id: Id
    name: Text
    category: Text | None = None
    description: str | None = Field(default=None, max_length=10_000)
    attributes: dict[Text, Text] = {}
    visual: dict[Text, Text] = {}
    visual_in_text: bool = True
    variants: list[_Variant] = Field(min_length=1)


@dataclass(frozen=True)
class CatalogSummary:
    products: int
    variants: int
    created: int  # products that did not exist before
    updated: int


def import_catalog(engine: Engine, path: Path) -> CatalogSummary:
    """Validate ``path`` (.csv or .jsonl) completely, then insert or update its products in one go."""
    path = Path(path)
    try:
        if path.suffix.lower() == ".csv":
            raw = _read_csv(path)
        elif path.suffix.lower() in (".jsonl", ".ndjson"):
            raw = _read_jsonl(path)
        else:
            raise ImportRejected([f"{path.name}: expected a .csv or .jsonl file"])
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportRejected([f"{path}: {exc}"]) from None
    products, errors = _validate(raw, path.parent)
    with transaction(engine, write=True) as db:
        owners = dict(db.execute(select(Variant.item_id, Variant.product_id)).tuples().all())
        errors += [
            f"{p.product_id}: item {v.item_id} already belongs to product {owners[v.item_id]}"
            for p in products
            for v in p.variants
            if owners.get(v.item_id, p.product_id) != p.product_id
        ]
        if errors:
            raise ImportRejected(errors)
        positions = dict(db.execute(select(Product.product_id, Product.position)).tuples().all())
        replaced = [p.product_id for p in products if p.product_id in positions]
        for chunk in range(0, len(replaced), 500):  # stay below SQLite's bound-parameter limit
            ids = replaced[chunk : chunk + 500]
            db.execute(delete(Variant).where(Variant.product_id.in_(ids)))
            db.execute(delete(Product).where(Product.product_id.in_(ids)))
        next_position = max(positions.values(), default=-1) + 1
        rows: Rows = defaultdict(list)
        for p in products:
            if p.product_id not in positions:
                positions[p.product_id], next_position = next_position, next_position + 1
            record = p.model_dump()
            record["variants"] = {v["item_id"]: _with_availability(v) for v in record["variants"]}
            product_rows(record, positions[p.product_id], rows)
        insert_rows(db, rows)
    return CatalogSummary(len(products), len(rows[Variant]), len(products) - len(replaced), len(replaced))


def _with_availability(variant: dict[str, Any]) -> dict[str, Any]:
    if variant["available"] is None:
        variant["available"] = variant["stock"] is None or variant["stock"] > 0
    return variant


def _read_jsonl(path: Path) -> list[tuple[str, Any]]:
    """(where, decoded line) pairs; undecodable lines become an error marker."""
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip():
            try:
                rows.append((f"line {number}", json.loads(line)))
            except json.JSONDecodeError as exc:
                rows.append((f"line {number}", ValueError(f"not JSON: {exc.msg}")))
    return rows


def _read_csv(path: Path) -> list[tuple[str, Any]]:
    """Group the variant rows by product into product records, keeping line numbers for errors."""
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames or []
        missing = {"product_id", "name", "item_id", "price"} - set(columns)
        unknown = [
            c
            for c in columns
            if c not in _PRODUCT_COLUMNS + _VARIANT_COLUMNS and c.partition(":")[0] not in _PREFIXES
        ]
        if missing or unknown:
            problems = [f"missing column(s): {', '.join(sorted(missing))}"] if missing else []
            problems += [f"unknown column(s): {', '.join(unknown)}"] if unknown else []
            return [("line 1", ValueError("; ".join(problems)))]
        products: dict[str, tuple[str, Any]] = {}
        for number, row in enumerate(reader, start=2):
            where = f"line {number}"
            if None in row:
                products[f"#{number}"] = (where, ValueError("more cells than columns"))
                continue
            cells = {k: v.strip() for k, v in row.items() if v is not None and v.strip()}
            product: dict[str, Any] = {k: cells[k] for k in _PRODUCT_COLUMNS if k in cells}
            variant: dict[str, Any] = {k: cells[k] for k in _VARIANT_COLUMNS if k in cells}
            for column, value in cells.items():
                prefix, _, name = column.partition(":")
                if prefix in _PREFIXES:
                    level, field = _PREFIXES[prefix]
                    (variant if level == "variant" else product).setdefault(field, {})[name] = value
            key = product.get("product_id", f"#{number}")
            if key not in products:
                products[key] = (where, {**product, "variants": [variant]})
                continue
            first_where, record = products[key]
            if isinstance(record, Exception):
                continue
            conflicts = [k for k in product if record.get(k) != product[k]]
            if conflicts:
                products[key] = (where, ValueError(f"{', '.join(conflicts)} differ from {first_where}"))
            else:
                record["variants"].append(variant)
    return list(products.values())


def _validate(raw: list[tuple[str, Any]], folder: Path) -> tuple[list[_Product], list[str]]:
    products: list[_Product] = []
    errors: list[str] = []
    seen_products: dict[str, str] = {}
    seen_items: dict[str, str] = {}
    for where, record in raw:
        if isinstance(record, Exception):
            errors.append(f"{where}: {record}")
            continue
        try:
            product = _Product.model_validate(record)
        except ValidationError as exc:
            errors += [f"{where}: {'.'.join(map(str, e['loc'])) or 'record'}: {e['msg']}" for e in exc.errors()]
            continue
        if product.product_id in seen_products:
            first = seen_products[product.product_id]
            errors.append(f"{where}: product {product.product_id} already given at {first}")
        seen_products[product.product_id] = where
        for variant in product.variants:
            if variant.item_id in seen_items:
                errors.append(f"{where}: item {variant.item_id} already given at {seen_items[variant.item_id]}")
            seen_items[variant.item_id] = where
            if variant.image is not None:
                image = (folder / variant.image).resolve()
                if not image.is_file():
                    errors.append(f"{where}: image {variant.image} not found")
                variant.image = str(image)
        products.append(product)
    return products, errors
