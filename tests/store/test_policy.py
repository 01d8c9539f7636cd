"""Policy as data: the operations enforce the stored policy and the generated text states the same."""

from __future__ import annotations

from dataclasses import replace

import pytest

from shopagent.agent.store.db import transaction
from shopagent.agent.store.errors import InvalidStatus, PolicyViolation
from shopagent.agent.store.policy import DEMO_POLICY, TAU2_POLICY, Policy, policy_passages, policy_text, save_policy
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2

from .helpers import World, apply, assert_refused, login


def _use(shop: Shop, policy: Policy) -> None:
    with transaction(shop.engine, write=True) as db:
        save_policy(db, policy)


def test_text_states_every_parameter() -> None:
    policy = Policy(
        shop_name="Test Shop",
        cancel_reasons=("changed my mind",),
        return_window_days=14,
        card_refund_business_days=(3, 4),
        shipping_business_days=(1, 3),
        free_shipping_over=40.0,
        warranty_months=24,
        refund_to_any_gift_card=False,
    )
    text = policy_text(policy)
    for fragment in (
        "# Test Shop",
        "The reason must be 'changed my mind'.",
        "returned within 14 days of delivery",
        "3 to 4 business days",
        "ship within 1 to 3 business days",
        "free on orders over $40.00",
        "24-month warranty",
        "The refund goes to the original payment method.",
    ):
        assert fragment in text
    ids = [p.id for p in policy_passages(policy)]
    assert len(ids) == len(set(ids))


def test_benchmark_policy_text() -> None:
    text = policy_text(TAU2_POLICY)
    assert "The reason must be 'no longer needed' or 'ordered by mistake'." in text
    assert "can be returned. The refund goes to the original payment method or to any of your gift cards" in text
    assert "Shipping" not in text and "warranty" not in text and "days of delivery" not in text
    assert "within 30 days of delivery" in policy_text(DEMO_POLICY)


def test_policy_round_trips_through_the_database(shop: Shop) -> None:
    _use(shop, DEMO_POLICY)
    assert shop.policy == DEMO_POLICY


def test_cancel_reasons_come_from_the_policy(shop: Shop, world: World) -> None:
    _use(shop, replace(TAU2_POLICY, cancel_reasons=("changed my mind",)))
    order = world.order("pending")
    session = login(shop, world.owner(order))
    args = {"order_id": order["order_id"], "reason": "no longer needed"}
    preview = lambda: session.preview("cancel_pending_order", args)  # noqa: E731
    assert_refused(shop.engine, preview, PolicyViolation, "Invalid reason")
    result = apply(session, "cancel_pending_order", order_id=order["order_id"], reason="changed my mind")
    assert (result["status"], result["cancel_reason"]) == ("cancelled", "changed my mind")
    assert "'changed my mind'" in policy_text(shop.policy)


def test_cancellable_statuses_come_from_the_policy(shop: Shop, world: World) -> None:
    _use(shop, replace(TAU2_POLICY, cancellable_statuses=("pending", "processed")))
    processed, delivered = world.order("processed"), world.order("delivered")
    session = login(shop, world.owner(processed))
    result = apply(session, "cancel_pending_order", order_id=processed["order_id"], reason="ordered by mistake")
    assert result["status"] == "cancelled"
    session = login(shop, world.owner(delivered))
    args = {"order_id": delivered["order_id"], "reason": "ordered by mistake"}
    reason = "Non-pending or processed order cannot be cancelled"
    assert_refused(shop.engine, lambda: session.preview("cancel_pending_order", args), InvalidStatus, reason)


@pytest.mark.parametrize("copy_last", [True, False])
def test_modified_items_take_their_own_variant_unless_the_benchmark_quirk_is_on(
    shop: Shop, world: World, copy_last: bool
) -> None:
    _use(shop, replace(TAU2_POLICY, modified_items_copy_last_variant=copy_last))

    def alternatives(item: dict) -> list[tuple[str, dict]]:
        variants = world.product(item["product_id"])["variants"]
        return [
            (i, v)
            for i, v in variants.items()
            if v["available"] and i != item["item_id"] and v["price"] != item["price"]
        ]

    def suitable(order: dict) -> bool:
        return len({i["product_id"] for i in order["items"]}) >= 2 and all(alternatives(i) for i in order["items"])

    order = world.order("pending", suitable)
    items = order["items"][:2]
    new = [alternatives(i)[0] for i in items]
    session = login(shop, world.owner(order))
    result = apply(
        session,
        "modify_pending_order_items",
        order_id=order["order_id"],
        item_ids=[i["item_id"] for i in items],
        new_item_ids=[n[0] for n in new],
        payment_method_id=order["payment_history"][0]["payment_method_id"],
    )
    changed = result["items"][:2]
    assert [i["item_id"] for i in changed] == [n[0] for n in new]
    expected = [new[-1][1]] * 2 if copy_last else [n[1] for n in new]
    assert [(i["price"], i["options"]) for i in changed] == [(v["price"], v["options"]) for v in expected]
    assert export_tau2(shop.engine)["orders"][order["order_id"]] == result
