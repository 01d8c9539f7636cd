"""Bad input: unknown or malformed ids, wrong types, absurd values → a typed error, database unchanged,
and nothing written but the audit entry for the refusal.

All cases share one store (a refused call changes nothing, so they cannot disturb each other). Each
case compares every stored row of the shop's tables (stricter than the export); one more test runs all
cases on a fresh store and diffs the τ² export before and after."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from shopagent.agent.store.errors import BadInput, ConfirmationRequired, NotFound, StoreError
from shopagent.agent.store.operations import TOOLS
from shopagent.agent.store.shop import Shop, ShopSession
from shopagent.agent.store.tau2 import export_tau2

from .conftest import Databases, engine_from
from .helpers import World, audit, login, shop_state

ORDER = "<order>"  # placeholders filled with the logged-in user's real records
ITEM = "<item>"
METHOD = "<method>"
ADDRESS = {"address1": "1 Main St", "address2": "", "city": "Austin", "state": "TX", "country": "USA", "zip": "78701"}

CASES: list[tuple[str, Any, type[StoreError]]] = [
    # unknown or malformed ids: the benchmark's "not found"
    ("get_order_details", {"order_id": "#W0000000"}, NotFound),
    ("get_order_details", {"order_id": "W2611340"}, NotFound),
    ("get_order_details", {"order_id": "'; DROP TABLE orders; --"}, NotFound),
    ("get_product_details", {"product_id": ""}, NotFound),
    ("get_item_details", {"item_id": "12"}, NotFound),
    ("find_user_id_by_email", {"email": "nobody@example.invalid"}, NotFound),
    ("find_user_id_by_name_zip", {"first_name": "%", "last_name": "%", "zip": "%"}, NotFound),
    ("cancel_pending_order", {"order_id": "#W9999999", "reason": "no longer needed"}, NotFound),
    ("return_delivered_order_items", {"order_id": ORDER, "item_ids": [ITEM], "payment_method_id": "paypal_0"}, NotFound),
    ("return_delivered_order_items", {"order_id": ORDER, "item_ids": ["0"], "payment_method_id": METHOD}, NotFound),
    # wrong types, names and shapes
    ("get_order_details", {"order_id": 2611340}, BadInput),
    ("get_order_details", {"order_id": None}, BadInput),
    ("get_order_details", {"order_id": ["#W2611340"]}, BadInput),
    ("get_order_details", {}, BadInput),
    ("get_order_details", {"order_id": ORDER, "user_id": "x"}, BadInput),
    ("get_order_details", ["#W2611340"], BadInput),
    ("cancel_pending_order", {"order_id": ORDER, "reason": True}, BadInput),
    ("return_delivered_order_items", {"order_id": ORDER, "item_ids": ITEM, "payment_method_id": METHOD}, BadInput),
    ("return_delivered_order_items", {"order_id": ORDER, "item_ids": [1, 2], "payment_method_id": METHOD}, BadInput),
    ("return_delivered_order_items", {"order_id": ORDER, "item_ids": [], "payment_method_id": METHOD}, BadInput),
    ("no_such_tool", {}, BadInput),
    (None, {}, BadInput),
    # absurd values
    ("get_order_details", {"order_id": "#W" + "9" * 10_000}, BadInput),
    ("get_order_details", {"order_id": "#W26\x0011340"}, BadInput),
    ("return_delivered_order_items", {"order_id": ORDER, "item_ids": [ITEM] * 9999, "payment_method_id": METHOD}, BadInput),
    ("modify_pending_order_address", {"order_id": ORDER, **ADDRESS, "city": "x" * 5000}, BadInput),
    ("calculate", {"expression": "9**9**9**9"}, BadInput),
    ("calculate", {"expression": "1/0"}, BadInput),
    ("calculate", {"expression": "__import__('os').system('true')"}, BadInput),
    ("calculate", {"expression": "(" * 1000 + "1" + ")" * 1000}, BadInput),
    ("calculate", {"expression": "1e400"}, BadInput),
    ("get_order_details", {"order_id": ORDER, "confirmation": "x"}, BadInput),
]


def _fill(value: Any, order: dict) -> Any:
    fills = {
        ORDER: order["order_id"],
        ITEM: order["items"][0]["item_id"],
        METHOD: order["payment_history"][0]["payment_method_id"],
    }
    if isinstance(value, dict):
        return {k: _fill(v, order) for k, v in value.items()}
    if isinstance(value, list):
        return [_fill(v, order) for v in value]
    return fills.get(value, value) if isinstance(value, str) else value


@pytest.fixture(scope="module")
def bad_input_shop(databases: Databases, tau2_template: str, world: World) -> Iterator[tuple[ShopSession, dict]]:
    """A logged-in session and a delivered order of its user."""
    for engine in engine_from(databases, tau2_template):
        order = world.order("delivered")
        yield login(Shop(engine), world.owner(order)), order


def _expected(mode: str, tool: Any, error: type[StoreError]) -> type[StoreError]:
    """Arguments are checked first; then a bogus token stops a change call before any lookup."""
    if error is BadInput or mode == "preview":
        return error
    return ConfirmationRequired if TOOLS[tool].kind == "change" else error


MODES = (
    [("call", case) for case in CASES]
    + [("preview", case) for case in CASES if case[0] in TOOLS and TOOLS[case[0]].kind == "change"]
    + [("preview", ("get_order_details", {"order_id": ORDER}, BadInput))]  # nothing to confirm
)


@pytest.mark.parametrize(("mode", "case"), MODES, ids=[f"{m}-{i}-{c[0]}" for i, (m, c) in enumerate(MODES)])
def test_bad_input_is_refused_and_changes_nothing(bad_input_shop, mode: str, case: tuple) -> None:
    session, order = bad_input_shop
    tool, arguments, error = case
    arguments = _fill(arguments, order)
    before, entries = shop_state(session.shop.engine), len(audit(session.shop.engine))
    with pytest.raises(StoreError) as raised:
        if mode == "preview":
            session.preview(tool, arguments)
        else:
            session.call(tool, arguments, confirmation="not-a-token", idempotency_key="k")
    assert isinstance(raised.value, _expected(mode, tool, error))
    assert shop_state(session.shop.engine) == before
    log = audit(session.shop.engine)
    assert len(log) == entries + 1 and log[-1].kind == "refusal"


def test_all_cases_together_leave_the_export_unchanged(tau2_engine, world: World) -> None:
    order = world.order("delivered")
    session = login(Shop(tau2_engine), world.owner(order))
    before = export_tau2(tau2_engine)
    for mode, (tool, arguments, _) in MODES:
        with pytest.raises(StoreError):
            if mode == "preview":
                session.preview(tool, _fill(arguments, order))
            else:
                session.call(tool, _fill(arguments, order), confirmation="not-a-token", idempotency_key="k")
    assert export_tau2(tau2_engine) == before


def test_absurd_idempotency_keys_and_tokens(shop: Shop, world: World) -> None:
    order = world.order("pending")
    session = login(shop, world.owner(order))
    args = {"order_id": order["order_id"], "reason": "no longer needed"}
    token = session.preview("cancel_pending_order", args).token
    before = export_tau2(shop.engine)
    for token_value, key in [(token, ""), (token, "k" * 201), (token, 42), (123, "k"), (token, None)]:
        with pytest.raises(BadInput):
            session.call("cancel_pending_order", args, confirmation=token_value, idempotency_key=key)
    assert export_tau2(shop.engine) == before
