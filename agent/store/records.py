"""Rows ⇄ τ²-shaped records (plain dicts), the one place that knows the benchmark's field layout.

Tool results, the τ² export and every loader (τ² import, catalog import, demo store) go through here;
:func:`load_records` is the one way a whole store is loaded. Loaders accept optional shop extensions
the benchmark lacks (descriptions, categories, text and visual attributes, stock, images, order
dates); the τ² shape written out never contains them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from tqdm import tqdm

from shopagent.agent.store.db import clear, is_empty, transaction
from shopagent.agent.store.errors import StoreNotEmpty
from shopagent.agent.store.policy import Policy, save_policy
from shopagent.agent.store.schema import (
    Fulfillment,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    Product,
    User,
    Variant,
    from_cents,
    to_cents,
)

ADDRESS_FIELDS = ("address1", "address2", "city", "country", "state", "zip")


def address_record(row: User | Order) -> dict[str, str]:
    return {field: getattr(row, field) for field in ADDRESS_FIELDS}


def variant_record(variant: Variant) -> dict[str, Any]:
    return {
        "item_id": variant.item_id,
        "options": dict(variant.options),
        "available": variant.available,
        "price": from_cents(variant.price_cents),
    }


def product_record(product: Product) -> dict[str, Any]:
    return {
        "name": product.name,
        "product_id": product.product_id,
        "variants": {v.item_id: variant_record(v) for v in product.variants},
    }


def payment_method_record(method: PaymentMethod) -> dict[str, Any]:
    record: dict[str, Any] = {"source": method.source, "id": method.id}
    if method.source == "credit_card":
        record |= {"brand": method.brand, "last_four": method.last_four}
    elif method.source == "gift_card":
        record["balance"] = from_cents(method.balance_cents or 0)
    return record


def user_record(user: User, order_ids: list[str] | None = None) -> dict[str, Any]:
    """``order_ids`` saves a query per user when the caller already has them (the export)."""
    return {
        "user_id": user.user_id,
        "name": {"first_name": user.first_name, "last_name": user.last_name},
        "address": address_record(user),
        "email": user.email,
        "payment_methods": {m.id: payment_method_record(m) for m in user.payment_methods},
        "orders": [o.order_id for o in user.orders] if order_ids is None else order_ids,
    }


def order_record(order: Order) -> dict[str, Any]:
    difference = order.exchange_price_difference_cents
    return {
        "order_id": order.order_id,
        "user_id": order.user_id,
        "address": address_record(order),
        "items": [
            {
                "name": item.name,
                "product_id": item.product_id,
                "item_id": item.item_id,
                "price": from_cents(item.price_cents),
                "options": dict(item.options),
            }
            for item in order.items
        ],
        "status": order.status,
        "fulfillments": [
            {"tracking_id": list(f.tracking_ids), "item_ids": list(f.item_ids)} for f in order.fulfillments
        ],
        "payment_history": [
            {
                "transaction_type": p.transaction_type,
                "amount": from_cents(p.amount_cents),
                "payment_method_id": p.payment_method_id,
            }
            for p in order.payments
        ],
        "cancel_reason": order.cancel_reason,
        "exchange_items": order.exchange_items,
        "exchange_new_items": order.exchange_new_items,
        "exchange_payment_method_id": order.exchange_payment_method_id,
        "exchange_price_difference": None if difference is None else from_cents(difference),
        "return_items": order.return_items,
        "return_payment_method_id": order.return_payment_method_id,
    }


# --- loading ------------------------------------------------------------------------------------

Rows = dict[type, list[dict[str, Any]]]  # model → column values of its new rows


def product_rows(record: dict[str, Any], position: int, rows: Rows) -> None:
    """Add the rows of a product record (and its variants) to ``rows``."""
    rows[Product].append(
        {
            "product_id": record["product_id"],
            "name": record["name"],
            "position": position,
            "category": record.get("category"),
            "description": record.get("description"),
            "attributes": dict(record.get("attributes") or {}),
            "visual": dict(record.get("visual") or {}),
            "visual_in_text": record.get("visual_in_text", True),
        }
    )
    rows[Variant] += [
        {
            "item_id": v["item_id"],
            "product_id": record["product_id"],
            "position": i,
            "options": dict(v.get("options") or {}),
            "available": v["available"],
            "price_cents": to_cents(v["price"]),
            "stock": v.get("stock"),
            "image_path": v.get("image"),
            "visual": dict(v.get("visual") or {}),
        }
        for i, v in enumerate(record["variants"].values())
    ]


def user_rows(record: dict[str, Any], position: int, rows: Rows) -> None:
    rows[User].append(
        {
            "user_id": record["user_id"],
            "position": position,
            "first_name": record["name"]["first_name"],
            "last_name": record["name"]["last_name"],
            "email": record["email"],
            "version": 1,
            **{field: record["address"][field] for field in ADDRESS_FIELDS},
        }
    )
    rows[PaymentMethod] += [
        {
            "id": m["id"],
            "user_id": record["user_id"],
            "position": i,
            "source": m["source"],
            "brand": m.get("brand"),
            "last_four": m.get("last_four"),
            "balance_cents": to_cents(m["balance"]) if m["source"] == "gift_card" else None,
        }
        for i, m in enumerate(record["payment_methods"].values())
    ]


def order_rows(record: dict[str, Any], position: int, rows: Rows) -> None:
    order_id, difference = record["order_id"], record.get("exchange_price_difference")
    rows[Order].append(
        {
            "order_id": order_id,
            "user_id": record["user_id"],
            "position": position,
            **{field: record["address"][field] for field in ADDRESS_FIELDS},
            "status": record["status"],
            "cancel_reason": record.get("cancel_reason"),
            "return_items": record.get("return_items"),
            "return_payment_method_id": record.get("return_payment_method_id"),
            "exchange_items": record.get("exchange_items"),
            "exchange_new_items": record.get("exchange_new_items"),
            "exchange_payment_method_id": record.get("exchange_payment_method_id"),
            "exchange_price_difference_cents": None if difference is None else to_cents(difference),
            "placed_at": _datetime(record.get("placed_at")),
            "delivered_at": _datetime(record.get("delivered_at")),
            "version": 1,
        }
    )
    rows[OrderItem] += [
        {
            "order_id": order_id,
            "position": i,
            "name": item["name"],
            "product_id": item["product_id"],
            "item_id": item["item_id"],
            "price_cents": to_cents(item["price"]),
            "options": dict(item["options"]),
        }
        for i, item in enumerate(record["items"])
    ]
    rows[Fulfillment] += [
        {"order_id": order_id, "position": i, "tracking_ids": f["tracking_id"], "item_ids": f["item_ids"]}
        for i, f in enumerate(record["fulfillments"])
    ]
    rows[Payment] += [
        {
            "order_id": order_id,
            "position": i,
            "transaction_type": p["transaction_type"],
            "amount_cents": to_cents(p["amount"]),
            "payment_method_id": p["payment_method_id"],
        }
        for i, p in enumerate(record["payment_history"])
    ]


def insert_rows(db: Session, rows: Rows, progress: bool = False) -> None:
    """Bulk-insert ``rows`` in foreign-key order (many rows per statement: fast on both databases)."""
    order = [Product, Variant, User, PaymentMethod, Order, OrderItem, Fulfillment, Payment]
    bar = tqdm(total=sum(len(r) for r in rows.values()), desc="loading", unit="row", disable=not progress)
    with bar:
        for model in order:
            for start in range(0, len(rows[model]), 1000):
                chunk = rows[model][start : start + 1000]
                db.execute(insert(model), chunk)
                bar.update(len(chunk))


@dataclass(frozen=True)
class LoadSummary:
    products: int
    variants: int
    users: int
    orders: int


def load_records(
    engine: Engine, data: dict[str, Any], policy: Policy, *, replace: bool = False, progress: bool = False
) -> LoadSummary:
    """Fill an empty store (or, with ``replace``, a cleared one) with ``data`` (a ``{"products",
    "users", "orders"}`` mapping of records) and ``policy``, in one transaction. The audit log is kept:
    it is append-only."""
    if not replace and not is_empty(engine):
        raise StoreNotEmpty("The store already holds data; use an empty database or pass replace")
    rows: Rows = defaultdict(list)
    for kind, add in (("products", product_rows), ("users", user_rows), ("orders", order_rows)):
        for position, record in enumerate(data[kind].values()):
            add(record, position, rows)
    with transaction(engine, write=True) as db:
        clear(db)
        save_policy(db, policy)
        insert_rows(db, rows, progress)
    return LoadSummary(len(rows[Product]), len(rows[Variant]), len(rows[User]), len(rows[Order]))


def _datetime(value: str | datetime | None) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else value
