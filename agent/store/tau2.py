"""Import and export of the τ²-bench retail database JSON (``{"products", "users", "orders"}``).

The import validates the whole file first (shape, types, and that ids agree: dict keys, owners, order
lists, payment methods) and writes nothing if anything is wrong. The export writes the benchmark's
shape exactly, optional order fields as null, in the imported order, so a round trip is lossless and
the result can be compared with the benchmark's own database.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from sqlalchemy import select
from sqlalchemy.engine import Engine

from shopagent.agent.store.db import transaction
from shopagent.agent.store.errors import ImportRejected, StoreError
from shopagent.agent.store.operations import TOOLS
from shopagent.agent.store.policy import TAU2_POLICY
from shopagent.agent.store.records import LoadSummary, load_records, order_record, product_record, user_record
from shopagent.agent.store.schema import (
    ORDER_STATUSES,
    Fulfillment,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    Product,
    User,
    Variant,
    to_cents,
)
from shopagent.agent.store.shop import Shop

# The tools of the benchmark version the oracle (expected_train.json) was produced with.
TAU2_TOOLS = frozenset(
    {
        "calculate",
        "cancel_pending_order",
        "exchange_delivered_order_items",
        "find_user_id_by_email",
        "find_user_id_by_name_zip",
        "get_order_details",
        "get_product_details",
        "get_user_details",
        "list_all_product_types",
        "modify_pending_order_address",
        "modify_pending_order_items",
        "modify_pending_order_payment",
        "modify_user_address",
        "return_delivered_order_items",
        "transfer_to_human_agents",
    }
)


def data_dir() -> Path:
    """The τ² retail data folder: ``$SHOPAGENT_TAU2_DIR``, else ``../shared/data/tau2-retail`` next to
    the repository (the data is never copied into the repository)."""
    default = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "tau2-retail"
    return Path(os.environ.get("SHOPAGENT_TAU2_DIR", default))


# --- the file format -----------------------------------------------------------------------------


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


def _whole_cents(amount: float) -> float:
    to_cents(amount)  # ValueError for fractions of a cent
    return amount


Money = Annotated[float, AfterValidator(_whole_cents)]


class _Variant(_Model):
    item_id: str
    options: dict[str, str]
    available: bool
    price: Money


class _Product(_Model):
    name: str
    product_id: str
    variants: dict[str, _Variant]


class _Name(_Model):
    first_name: str
    last_name: str


class _Address(_Model):
    address1: str
    address2: str
    city: str
    country: str
    state: str
    zip: str


class _PaymentMethod(_Model):
    source: Literal["credit_card", "paypal", "gift_card"]
    id: str
    brand: str | None = None
    last_four: str | None = None
    balance: Money | None = None


class _User(_Model):
    user_id: str
    name: _Name
    address: _Address
    email: str
    payment_methods: dict[str, _PaymentMethod]
    orders: list[str]


class _Item(_Model):
    name: str
    product_id: str
    item_id: str
    price: Money
    options: dict[str, str]


class _Fulfillment(_Model):
    tracking_id: list[str]
    item_ids: list[str]


class _Payment(_Model):
    transaction_type: Literal["payment", "refund"]
    amount: Money
    payment_method_id: str


class _Order(_Model):
    order_id: str
    user_id: str
    address: _Address
    items: list[_Item]
    status: Literal[ORDER_STATUSES]  # type: ignore[valid-type]
    fulfillments: list[_Fulfillment]
    payment_history: list[_Payment]
    cancel_reason: str | None = None
    exchange_items: list[str] | None = None
    exchange_new_items: list[str] | None = None
    exchange_payment_method_id: str | None = None
    exchange_price_difference: Money | None = None
    return_items: list[str] | None = None
    return_payment_method_id: str | None = None


class _Database(_Model):
    products: dict[str, _Product]
    users: dict[str, _User]
    orders: dict[str, _Order]


def validate(data: Any) -> list[str]:
    """Every problem in a τ² database document (empty when it can be imported as is)."""
    try:
        db = _Database.model_validate(data)
    except ValidationError as exc:
        return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors()]
    problems = []
    problems += [f"products.{k}: key differs from product_id" for k, p in db.products.items() if k != p.product_id]
    problems += [
        f"products.{p.product_id}.variants.{k}: key differs from item_id"
        for p in db.products.values()
        for k, v in p.variants.items()
        if k != v.item_id
    ]
    problems += [f"users.{k}: key differs from user_id" for k, u in db.users.items() if k != u.user_id]
    for user in db.users.values():
        for key, method in user.payment_methods.items():
            if key != method.id:
                problems.append(f"users.{user.user_id}.payment_methods.{key}: key differs from id")
            if (method.source == "gift_card") != (method.balance is not None):
                problems.append(f"users.{user.user_id}.payment_methods.{key}: balance is for gift cards only")
        listed = [o for o, order in db.orders.items() if order.user_id == user.user_id]
        if user.orders != listed:
            problems.append(f"users.{user.user_id}.orders: differs from the orders it owns, in order")
    for key, order in db.orders.items():
        where = f"orders.{key}"
        if key != order.order_id:
            problems.append(f"{where}: key differs from order_id")
        user = db.users.get(order.user_id)
        if user is None:
            problems.append(f"{where}.user_id: no such user")
            continue
        for p in order.payment_history:
            if p.payment_method_id not in user.payment_methods:
                problems.append(f"{where}.payment_history: {p.payment_method_id} is not the user's")
    return problems


# --- import / export -----------------------------------------------------------------------------


def import_tau2(engine: Engine, path: Path, *, replace: bool = False, progress: bool = False) -> LoadSummary:
    """Load a τ² ``db.json`` (and the benchmark's policy) into an empty store, or over it with ``replace``."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ImportRejected([f"{path}: {exc}"]) from None
    problems = validate(data)
    if problems:
        raise ImportRejected(problems)
    return load_records(engine, data, TAU2_POLICY, replace=replace, progress=progress)


_ORDER_CHILDREN = {"items": OrderItem, "fulfillments": Fulfillment, "payments": Payment}


def export_tau2(engine: Engine) -> dict[str, dict[str, Any]]:
    """The whole store in the benchmark's JSON shape.

    Reads plain rows (eight queries, no ORM objects: several times faster) into namespaces with the
    models' attribute names and children, which the record builders read like models.
    """
    with transaction(engine) as db:

        def rows(model: Any, parent: str = "") -> dict[str, list[SimpleNamespace]]:
            table = model.__table__
            query = select(table).order_by(*([table.c[parent]] if parent else []), table.c.position)
            groups: dict[str, list[SimpleNamespace]] = defaultdict(list)
            for row in db.execute(query).all():
                record = SimpleNamespace(**row._asdict())
                groups[getattr(record, parent) if parent else ""].append(record)
            return groups

        products, variants = rows(Product)[""], rows(Variant, "product_id")
        users, methods = rows(User)[""], rows(PaymentMethod, "user_id")
        orders = rows(Order)[""]
        children = {name: rows(model, "order_id") for name, model in _ORDER_CHILDREN.items()}
    order_ids: dict[str, list[str]] = defaultdict(list)
    for order in orders:
        order_ids[order.user_id].append(order.order_id)
        for name, groups in children.items():
            setattr(order, name, groups[order.order_id])
    for product in products:
        product.variants = variants[product.product_id]
    for user in users:
        user.payment_methods = methods[user.user_id]
    return {
        "products": {p.product_id: product_record(p) for p in products},  # type: ignore[arg-type]
        "users": {u.user_id: user_record(u, order_ids[u.user_id]) for u in users},  # type: ignore[arg-type]
        "orders": {o.order_id: order_record(o) for o in orders},  # type: ignore[arg-type]
    }


def write_tau2(engine: Engine, out: Path) -> None:
    Path(out).write_text(json.dumps(export_tau2(engine), indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# --- replaying gold actions ----------------------------------------------------------------------


@dataclass(frozen=True)
class CallOutcome:
    name: str
    ok: bool
    error: str | None = None  # the refusal reason
    result: Any = None


def replay(shop: Shop, actions: list[dict[str, Any]], actor: str = "oracle") -> list[CallOutcome]:
    """Apply a task's gold actions the way a careful agent would, and report each call's outcome.

    The session first authenticates as the owner of the orders (or user) the actions touch, through
    the real email lookup, as the customer would have identified themselves. Each change is previewed,
    then confirmed with the preview's token and a fresh idempotency key. Tools the benchmark version
    lacks are reported as failed calls, as the benchmark does.
    """
    session = shop.session(actor=actor)
    email = _owner_email(shop.engine, actions)
    if email is not None:
        session.find_user_id_by_email(email)
    outcomes = []
    for number, action in enumerate(actions):
        name, args = action["name"], action["arguments"]
        if name not in TAU2_TOOLS:
            outcomes.append(CallOutcome(name, False, f"no tool {name!r} in the benchmark"))
            continue
        try:
            if TOOLS[name].kind == "change":
                token = session.preview(name, args).token
                key = f"{session.conversation_id}:{number}"
                result = session.call(name, args, confirmation=token, idempotency_key=key)
            else:
                result = session.call(name, args)
        except StoreError as exc:
            outcomes.append(CallOutcome(name, False, exc.reason))
        else:
            outcomes.append(CallOutcome(name, True, result=result))
    return outcomes


def _owner_email(engine: Engine, actions: list[dict[str, Any]]) -> str | None:
    """The email of the user owning the first order (or user id) the actions name, if any exists."""
    with transaction(engine) as db:
        for action in actions:
            args = action["arguments"]
            order = db.get(Order, args["order_id"]) if isinstance(args.get("order_id"), str) else None
            user = db.get(User, order.user_id if order else args.get("user_id") or "")
            if user is not None:
                return user.email
    return None
