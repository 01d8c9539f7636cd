"""Every refusal: a typed error with the benchmark's reason where it has one, nothing changed, audited."""

from __future__ import annotations

import uuid

import pytest

from shopagent.agent.store.errors import (
    AuthenticationRequired,
    ConfirmationExpired,
    ConfirmationMismatch,
    ConfirmationRequired,
    ConfirmationUsed,
    IdempotencyConflict,
    InsufficientBalance,
    InvalidStatus,
    NotFound,
    PolicyViolation,
    WrongUser,
)
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2

from .helpers import World, apply, assert_refused, audit, login


def _cancel_args(order: dict) -> dict:
    return {"order_id": order["order_id"], "reason": "no longer needed"}


# --- identity --------------------------------------------------------------------------------------


def test_nothing_personal_before_authentication(shop: Shop, world: World) -> None:
    order = world.order("pending")
    session = shop.session()
    engine = shop.engine
    assert_refused(engine, lambda: session.get_order_details(order["order_id"]), AuthenticationRequired)
    assert_refused(engine, lambda: session.get_user_details(order["user_id"]), AuthenticationRequired)
    assert_refused(engine, lambda: session.preview("cancel_pending_order", _cancel_args(order)), AuthenticationRequired)
    token = "x" * 32
    assert_refused(engine, lambda: session.confirm(token, "k1"), AuthenticationRequired)
    product_id = order["items"][0]["product_id"]
    assert session.get_product_details(product_id)["product_id"] == product_id  # the catalog is public


def test_another_users_data_is_refused(shop: Shop, world: World) -> None:
    order = world.order("pending")
    me = world.other_user(world.owner(order))
    session = login(shop, me)
    engine = shop.engine
    assert_refused(engine, lambda: session.get_order_details(order["order_id"]), WrongUser)
    assert_refused(engine, lambda: session.get_user_details(order["user_id"]), WrongUser)
    assert_refused(engine, lambda: session.preview("cancel_pending_order", _cancel_args(order)), WrongUser)
    address = dict(world.owner(order)["address"], address1="1 Elsewhere Road")
    args = {"user_id": order["user_id"], **address}
    assert_refused(engine, lambda: session.preview("modify_user_address", args), WrongUser)


def test_one_user_per_conversation_and_it_survives_restarts(shop: Shop, world: World) -> None:
    me = world.owner(world.order("pending"))
    other = world.other_user(me)
    session = login(shop, me)
    assert_refused(shop.engine, lambda: session.find_user_id_by_email(other["email"]), WrongUser)
    assert session.user_id == me["user_id"]
    reopened = Shop(shop.engine).session(session.conversation_id)  # a new process, same conversation
    assert reopened.user_id == me["user_id"]
    assert reopened.get_user_details(me["user_id"])["email"] == me["email"]


# --- order state and shop rules ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "tool", "reason"),
    [
        ("delivered", "cancel_pending_order", "Non-pending order cannot be cancelled"),
        ("processed", "cancel_pending_order", "Non-pending order cannot be cancelled"),
        ("cancelled", "modify_pending_order_address", "Non-pending order cannot be modified"),
        ("delivered", "modify_pending_order_payment", "Non-pending order cannot be modified"),
        ("processed", "modify_pending_order_items", "Non-pending order cannot be modified"),
        ("pending", "return_delivered_order_items", "Non-delivered order cannot be returned"),
        ("processed", "exchange_delivered_order_items", "Non-delivered order cannot be exchanged"),
    ],
)
def test_wrong_status(shop: Shop, world: World, status: str, tool: str, reason: str) -> None:
    order = world.order(status)
    user = world.owner(order)
    item = order["items"][0]
    method = order["payment_history"][0]["payment_method_id"]
    other_variant = next(i for i in world.product(item["product_id"])["variants"] if i != item["item_id"])
    args = {
        "cancel_pending_order": _cancel_args(order),
        "modify_pending_order_address": {"order_id": order["order_id"], **user["address"]},
        "modify_pending_order_payment": {"order_id": order["order_id"], "payment_method_id": method},
        "modify_pending_order_items": {
            "order_id": order["order_id"],
            "item_ids": [item["item_id"]],
            "new_item_ids": [other_variant],
            "payment_method_id": method,
        },
        "return_delivered_order_items": {
            "order_id": order["order_id"],
            "item_ids": [item["item_id"]],
            "payment_method_id": method,
        },
        "exchange_delivered_order_items": {
            "order_id": order["order_id"],
            "item_ids": [item["item_id"]],
            "new_item_ids": [other_variant],
            "payment_method_id": method,
        },
    }[tool]
    session = login(shop, user)
    assert_refused(shop.engine, lambda: session.preview(tool, args), InvalidStatus, reason)


def test_a_modified_order_cannot_be_modified_or_cancelled_again(shop: Shop, world: World) -> None:
    order = world.order("pending", lambda o: len(world.product(o["items"][0]["product_id"])["variants"]) > 2)
    item = order["items"][0]
    new = [
        i
        for i, v in world.product(item["product_id"])["variants"].items()
        if v["available"] and i != item["item_id"]
    ]
    method = order["payment_history"][0]["payment_method_id"]
    session = login(shop, world.owner(order))
    args = {"order_id": order["order_id"], "item_ids": [item["item_id"]], "payment_method_id": method}
    assert apply(session, "modify_pending_order_items", **args, new_item_ids=[new[0]])["status"] == (
        "pending (item modified)"
    )
    again = dict(args, item_ids=[new[0]], new_item_ids=[item["item_id"]])
    engine = shop.engine
    reason = "Non-pending order cannot be modified"
    assert_refused(engine, lambda: session.preview("modify_pending_order_items", again), InvalidStatus, reason)
    reason = "Non-pending order cannot be cancelled"
    assert_refused(engine, lambda: session.preview("cancel_pending_order", _cancel_args(order)), InvalidStatus, reason)


def _item_change(world: World, where=lambda item, product: True) -> tuple[dict, dict, dict]:
    """A pending order, its first item (with its product) matching ``where``, and modify-items
    arguments that change that item into itself (tests then pick the new item)."""
    for order in world.orders("pending"):
        for item in order["items"]:
            product = world.product(item["product_id"])
            if where(item, product):
                args = {
                    "order_id": order["order_id"],
                    "item_ids": [item["item_id"]],
                    "new_item_ids": [item["item_id"]],
                    "payment_method_id": order["payment_history"][0]["payment_method_id"],
                }
                return order, product, args
    raise LookupError("no such order in the τ² data")


def test_unavailable_variant(shop: Shop, world: World) -> None:
    order, product, args = _item_change(world, lambda item, p: not all(v["available"] for v in p["variants"].values()))
    args["new_item_ids"] = [next(i for i, v in product["variants"].items() if not v["available"])]
    session = login(shop, world.owner(order))
    reason = f"New item {args['new_item_ids'][0]} not found or available"
    preview = lambda: session.preview("modify_pending_order_items", args)  # noqa: E731
    assert_refused(shop.engine, preview, PolicyViolation, reason)


def test_variant_of_a_different_product(shop: Shop, world: World) -> None:
    def elsewhere(product_id: str) -> str:
        other = next(p for p in world.data["products"].values() if p["product_id"] != product_id)
        return next(i for i, v in other["variants"].items() if v["available"])

    order, product, args = _item_change(world)
    args["new_item_ids"] = [elsewhere(product["product_id"])]
    session = login(shop, world.owner(order))
    preview = lambda: session.preview("modify_pending_order_items", args)  # noqa: E731
    assert_refused(shop.engine, preview, NotFound, "Variant not found")

    delivered = world.order("delivered")
    item = delivered["items"][0]
    args = {
        "order_id": delivered["order_id"],
        "item_ids": [item["item_id"]],
        "new_item_ids": [elsewhere(item["product_id"])],
        "payment_method_id": delivered["payment_history"][0]["payment_method_id"],
    }
    session = login(shop, world.owner(delivered))
    preview = lambda: session.preview("exchange_delivered_order_items", args)  # noqa: E731
    assert_refused(shop.engine, preview, NotFound, "Variant not found")


def test_same_item_is_not_a_modification(shop: Shop, world: World) -> None:
    order, _, args = _item_change(world)
    session = login(shop, world.owner(order))
    reason = "The new item id should be different from the old item id"
    assert_refused(shop.engine, lambda: session.preview("modify_pending_order_items", args), PolicyViolation, reason)


def test_item_not_in_the_order(shop: Shop, world: World) -> None:
    order, _, args = _item_change(world)
    args["item_ids"] = args["item_ids"] * 9  # more copies than the order holds
    args["new_item_ids"] = args["new_item_ids"] * 9
    session = login(shop, world.owner(order))
    reason = f"{args['item_ids'][0]} not found"
    assert_refused(shop.engine, lambda: session.preview("modify_pending_order_items", args), NotFound, reason)


def test_insufficient_gift_card_balance(shop: Shop, world: World) -> None:
    def covered_by_small_gift_card(order: dict) -> bool:
        paid = order["payment_history"][0]
        cards = world.methods(world.owner(order), "gift_card")
        return any(c["balance"] < paid["amount"] and c["id"] != paid["payment_method_id"] for c in cards)

    order = world.order("pending", covered_by_small_gift_card)
    paid = order["payment_history"][0]
    card = next(c for c in world.methods(world.owner(order), "gift_card") if c["balance"] < paid["amount"])
    session = login(shop, world.owner(order))
    args = {"order_id": order["order_id"], "payment_method_id": card["id"]}
    reason = "Insufficient gift card balance to pay for the order"
    preview = lambda: session.preview("modify_pending_order_payment", args)  # noqa: E731
    assert_refused(shop.engine, preview, InsufficientBalance, reason)


def test_invalid_cancel_reason(shop: Shop, world: World) -> None:
    order = world.order("pending")
    session = login(shop, world.owner(order))
    args = {"order_id": order["order_id"], "reason": "found it cheaper elsewhere"}
    preview = lambda: session.preview("cancel_pending_order", args)  # noqa: E731
    assert_refused(shop.engine, preview, PolicyViolation, "Invalid reason")


def test_refund_must_go_to_original_method_or_a_gift_card(shop: Shop, world: World) -> None:
    def has_other_non_gift_method(order: dict) -> bool:
        paid = order["payment_history"][0]["payment_method_id"]
        methods = world.owner(order)["payment_methods"].values()
        return any(m["id"] != paid and m["source"] != "gift_card" for m in methods)

    order = world.order("delivered", has_other_non_gift_method)
    paid = order["payment_history"][0]["payment_method_id"]
    methods = world.owner(order)["payment_methods"].values()
    other = next(m for m in methods if m["id"] != paid and m["source"] != "gift_card")
    session = login(shop, world.owner(order))
    args = {"order_id": order["order_id"], "item_ids": [order["items"][0]["item_id"]], "payment_method_id": other["id"]}
    reason = "Payment method should be the original payment method"
    assert_refused(shop.engine, lambda: session.preview("return_delivered_order_items", args), PolicyViolation, reason)


# --- confirmation ----------------------------------------------------------------------------------


@pytest.fixture
def cancellation(shop: Shop, world: World):
    order = world.order("pending")
    return login(shop, world.owner(order)), _cancel_args(order)


def test_change_without_confirmation(shop: Shop, cancellation) -> None:
    session, args = cancellation
    for token in (None, "never-issued-token"):
        call = lambda t=token: session.call("cancel_pending_order", args, confirmation=t, idempotency_key="k")  # noqa: E731
        assert_refused(shop.engine, call, ConfirmationRequired)
    assert_refused(shop.engine, lambda: session.confirm("never-issued-token", "k"), ConfirmationRequired)


def test_expired_confirmation(shop: Shop, cancellation, clock) -> None:
    session, args = cancellation
    token = session.preview("cancel_pending_order", args).token
    clock.advance(minutes=15, seconds=1)
    assert_refused(shop.engine, lambda: session.confirm(token, "k"), ConfirmationExpired)


def test_confirmation_of_a_different_change(shop: Shop, cancellation) -> None:
    session, args = cancellation
    token = session.preview("cancel_pending_order", args).token
    other = dict(args, reason="ordered by mistake")
    call = lambda: session.call("cancel_pending_order", other, confirmation=token, idempotency_key="k")  # noqa: E731
    assert_refused(shop.engine, call, ConfirmationMismatch)


def test_confirmation_from_another_conversation(shop: Shop, world: World, cancellation) -> None:
    session, args = cancellation
    token = session.preview("cancel_pending_order", args).token
    elsewhere = login(shop, world.data["users"][session.user_id])  # same user, another chat
    assert_refused(shop.engine, lambda: elsewhere.confirm(token, "k"), ConfirmationMismatch)


def test_confirmation_of_a_record_that_changed_since(shop: Shop, world: World, cancellation) -> None:
    session, args = cancellation
    token = session.preview("cancel_pending_order", args).token
    address = dict(world.data["users"][session.user_id]["address"], address2="Unit 9")
    apply(session, "modify_pending_order_address", order_id=args["order_id"], **address)
    assert_refused(shop.engine, lambda: session.confirm(token, "k"), ConfirmationMismatch)


def test_confirmation_is_single_use(shop: Shop, cancellation) -> None:
    session, args = cancellation
    token = session.preview("cancel_pending_order", args).token
    assert session.confirm(token, "first")["status"] == "cancelled"
    assert_refused(shop.engine, lambda: session.confirm(token, "second"), ConfirmationUsed)


# --- idempotency -----------------------------------------------------------------------------------


def test_replay_returns_the_original_result_and_changes_nothing(shop: Shop, cancellation) -> None:
    session, args = cancellation
    key = uuid.uuid4().hex
    token = session.preview("cancel_pending_order", args).token
    first = session.cancel_pending_order(**args, confirmation=token, idempotency_key=key)
    state, log = export_tau2(shop.engine), audit(shop.engine)
    assert session.cancel_pending_order(**args, confirmation=token, idempotency_key=key) == first
    assert session.confirm(token, key) == first
    assert export_tau2(shop.engine) == state
    assert len(audit(shop.engine)) == len(log)
    assert [e.kind for e in log].count("change") == 1


def test_key_reused_for_another_request(shop: Shop, world: World, cancellation) -> None:
    session, args = cancellation
    key = uuid.uuid4().hex
    token = session.preview("cancel_pending_order", args).token
    session.confirm(token, key)
    user = world.data["users"][session.user_id]
    address = dict(user["address"], address2="Unit 9")
    other = session.preview("modify_user_address", {"user_id": user["user_id"], **address}).token
    assert_refused(shop.engine, lambda: session.confirm(other, key), IdempotencyConflict)
