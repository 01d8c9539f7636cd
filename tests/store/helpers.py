"""Helpers for store tests: finding suitable records in the τ² data, acting as a customer, checking
that a refusal changed nothing."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from shopagent.agent.store.db import transaction
from shopagent.agent.store.errors import StoreError
from shopagent.agent.store.schema import AuditEntry
from shopagent.agent.store.shop import Shop, ShopSession

Record = dict[str, Any]


class World:
    """Searches the original τ² data, so tests pick records by property instead of by hard-coded id."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def orders(self, status: str, where: Callable[[Record], bool] = lambda o: True) -> Iterator[Record]:
        return (o for o in self.data["orders"].values() if o["status"] == status and where(o))

    def order(self, status: str, where: Callable[[Record], bool] = lambda o: True) -> Record:
        return next(self.orders(status, where))

    def owner(self, order: Record) -> Record:
        return self.data["users"][order["user_id"]]

    def product(self, product_id: str) -> Record:
        return self.data["products"][product_id]

    def methods(self, user: Record, source: str) -> list[Record]:
        return [m for m in user["payment_methods"].values() if m["source"] == source]

    def other_user(self, user: Record) -> Record:
        return next(u for u in self.data["users"].values() if u["user_id"] != user["user_id"] and u["orders"])


def login(shop: Shop, user: Record) -> ShopSession:
    """A new conversation, authenticated as ``user`` the way a customer would (by email)."""
    session = shop.session(actor="test")
    assert session.find_user_id_by_email(user["email"]) == user["user_id"]
    return session


def apply(session: ShopSession, tool: str, **arguments: Any) -> Any:
    """Preview a change, then confirm it with the preview's token and a fresh idempotency key."""
    token = session.preview(tool, arguments).token
    return session.call(tool, arguments, confirmation=token, idempotency_key=uuid.uuid4().hex)


def audit(engine: Engine) -> list[AuditEntry]:
    with transaction(engine) as db:
        return list(db.scalars(select(AuditEntry).order_by(AuditEntry.id)))


def audit_count(engine: Engine) -> int:
    with transaction(engine) as db:
        return db.scalar(select(func.count()).select_from(AuditEntry))


SHOP_TABLES = ("products", "variants", "users", "payment_methods", "orders", "order_items", "fulfillments", "payments")


def shop_state(engine: Engine) -> dict[str, list[Any]]:
    """Every row of the shop's data tables as stored (stricter than the export: versions, positions)."""
    with engine.connect() as conn:
        return {t: conn.exec_driver_sql(f"SELECT * FROM {t} ORDER BY 1").all() for t in SHOP_TABLES}


def assert_refused(
    engine: Engine, action: Callable[[], Any], error: type[StoreError], reason: str | None = None
) -> StoreError:
    """``action`` raises ``error`` (with ``reason``), the shop's data is unchanged, and the refusal is
    the one new audit entry."""
    before, entries = shop_state(engine), audit_count(engine)
    with pytest.raises(error) as raised:
        action()
    if reason is not None:
        assert raised.value.reason == reason
    assert shop_state(engine) == before
    log = audit(engine)
    assert len(log) == entries + 1
    assert (log[-1].kind, log[-1].outcome["error"]) == ("refusal", raised.value.code)
    return raised.value
