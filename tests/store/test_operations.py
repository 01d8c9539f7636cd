"""What the operations do when they succeed: previews, audit trail, handoffs, read tools."""

from __future__ import annotations

import json

from sqlalchemy import select

from shopagent.agent.store.db import transaction
from shopagent.agent.store.errors import NotFound
from shopagent.agent.store.schema import Handoff
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2

from .helpers import World, audit, login, shop_state


def _swap(world: World) -> tuple[dict, dict]:
    """A pending order paid by gift card and arguments swapping its first item for a pricier option."""
    def paid_by_gift_card(order: dict) -> bool:
        return order["payment_history"][0]["payment_method_id"].startswith("gift_card")

    for order in world.orders("pending", paid_by_gift_card):
        item = order["items"][0]
        for new_id, variant in world.product(item["product_id"])["variants"].items():
            card = world.owner(order)["payment_methods"][order["payment_history"][0]["payment_method_id"]]
            difference = round(variant["price"] - item["price"], 2)
            if variant["available"] and 0 < difference <= card["balance"]:
                return order, {
                    "order_id": order["order_id"],
                    "item_ids": [item["item_id"]],
                    "new_item_ids": [new_id],
                    "payment_method_id": card["id"],
                }
    raise LookupError("no such order in the τ² data")


def test_preview_describes_the_change_exactly_and_changes_nothing(shop: Shop, world: World) -> None:
    order, args = _swap(world)
    item = order["items"][0]
    variant = world.product(item["product_id"])["variants"][args["new_item_ids"][0]]
    difference = round(variant["price"] - item["price"], 2)
    session = login(shop, world.owner(order))
    before = shop_state(shop.engine)

    preview = session.preview("modify_pending_order_items", args)

    assert shop_state(shop.engine) == before
    assert f"${item['price']:,.2f}" in preview.summary and f"${variant['price']:,.2f}" in preview.summary
    assert f"You pay the difference of ${difference:,.2f} with gift card {args['payment_method_id']}" in preview.summary
    assert preview.details["price_difference"] == difference
    assert preview.details["items"][0]["new_options"] == variant["options"]
    confirmed = session.call("modify_pending_order_items", args, confirmation=preview.token, idempotency_key="k")
    assert confirmed == preview.result == export_tau2(shop.engine)["orders"][order["order_id"]]
    card = export_tau2(shop.engine)["users"][order["user_id"]]["payment_methods"][args["payment_method_id"]]
    before_card = world.owner(order)["payment_methods"][args["payment_method_id"]]
    assert card["balance"] == round(before_card["balance"] - difference, 2)


def test_cancellation_preview_says_where_refunds_go_and_when(shop: Shop, world: World) -> None:
    order = world.order("pending", lambda o: o["payment_history"][0]["payment_method_id"].startswith("credit_card"))
    session = login(shop, world.owner(order))
    preview = session.preview("cancel_pending_order", {"order_id": order["order_id"], "reason": "ordered by mistake"})
    paid = order["payment_history"][0]
    assert f"Refund ${paid['amount']:,.2f} to" in preview.summary and "within 5 to 7 business days" in preview.summary
    refund = {"payment_method_id": paid["payment_method_id"], "amount": paid["amount"]}
    assert preview.details["refunds"] == [refund | {"when": "within 5 to 7 business days"}]


def test_every_step_is_audited_with_actor_and_conversation(shop: Shop, world: World) -> None:
    order = world.order("pending")
    session = shop.session("chat-42", actor="agent:test")
    session.find_user_id_by_email(world.owner(order)["email"])
    args = {"order_id": order["order_id"], "reason": "no longer needed"}
    token = session.preview("cancel_pending_order", args).token
    session.confirm(token, "key-1")
    try:
        session.get_order_details("#W0000000")
    except NotFound:
        pass
    log = [e for e in audit(shop.engine) if e.conversation_id == "chat-42"]
    assert [(e.kind, e.tool) for e in log] == [
        ("record", "find_user_id_by_email"),
        ("preview", "cancel_pending_order"),
        ("change", "cancel_pending_order"),
        ("refusal", "get_order_details"),
    ]
    assert {e.actor for e in log} == {"agent:test"}
    assert log[2].arguments == args and log[2].outcome["idempotency_key"] == "key-1"
    assert log[3].outcome == {"error": "not_found", "reason": "Order not found"}


def test_transfer_records_a_handoff(shop: Shop, world: World) -> None:
    user = world.owner(world.order("pending"))
    session = login(shop, user)
    assert session.transfer_to_human_agents("Wants a refund to a new card.") == "Transfer successful"
    with transaction(shop.engine) as db:
        handoff = db.scalars(select(Handoff)).one()
    assert (handoff.conversation_id, handoff.user_id, handoff.summary) == (
        session.conversation_id, user["user_id"], "Wants a refund to a new card.",
    )


def test_read_tools(shop: Shop, world: World) -> None:
    session = shop.session()
    products = world.data["products"]
    assert json.loads(session.list_all_product_types()) == {p["name"]: i for i, p in products.items()}
    product_id, product = next(iter(products.items()))
    item_id, variant = next(iter(product["variants"].items()))
    assert session.get_product_details(product_id) == product
    assert session.get_item_details(item_id) == {"product_id": product_id, "name": product["name"], **variant}
    assert session.calculate("(2 + 3) * 4 / 8") == "2.5"
    assert session.calculate("-1.005 + 10") == "9.0"
    user = next(iter(world.data["users"].values()))
    zip_code = user["address"]["zip"]
    name = user["name"]
    found = session.find_user_id_by_name_zip(name["first_name"].upper(), name["last_name"].lower(), zip_code)
    assert found == user["user_id"] == session.user_id
    assert session.get_user_details(user["user_id"]) == user


def test_conversation_messages_are_kept(shop: Shop) -> None:
    session = shop.session("chat-7")
    session.add_message("user", "Where is my order?")
    session.add_message("assistant", "Let me check.")
    assert shop.session("chat-7").messages() == [
        {"role": "user", "content": "Where is my order?"},
        {"role": "assistant", "content": "Let me check."},
    ]
