"""Races: concurrent confirmations are serialised per user and re-checked under the lock."""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from shopagent.agent.store.errors import ConfirmationMismatch, ConfirmationUsed
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2

from .helpers import World, login


def race(*actions: Callable[[], Any]) -> list[Any]:
    """Run the actions in threads released together by a barrier; results or raised exceptions."""
    barrier = threading.Barrier(len(actions))
    results: list[Any] = [None] * len(actions)

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = actions[index]()
        except Exception as exc:  # collected, then asserted on by the test
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return results


def _gift_card_paid_pending(world: World) -> dict:
    return world.order("pending", lambda o: o["payment_history"][0]["payment_method_id"].startswith("gift_card"))


def _balance(shop: Shop, user_id: str, card: str) -> float:
    return export_tau2(shop.engine)["users"][user_id]["payment_methods"][card]["balance"]


def test_double_confirmation_applies_once(shop: Shop, world: World) -> None:
    order = _gift_card_paid_pending(world)
    paid = order["payment_history"][0]
    session = login(shop, world.owner(order))
    token = session.preview("cancel_pending_order", {"order_id": order["order_id"], "reason": "no longer needed"}).token
    tabs = [shop.session(session.conversation_id) for _ in range(4)]  # the same chat, four requests

    results = race(*(lambda s=s, k=f"key-{i}": s.confirm(token, k) for i, s in enumerate(tabs)))

    assert sum(isinstance(r, dict) for r in results) == 1
    assert all(isinstance(r, ConfirmationUsed) for r in results if not isinstance(r, dict))
    final = export_tau2(shop.engine)
    history = final["orders"][order["order_id"]]["payment_history"]
    assert [p["transaction_type"] for p in history] == ["payment", "refund"]
    card = world.owner(order)["payment_methods"][paid["payment_method_id"]]
    assert _balance(shop, order["user_id"], card["id"]) == round(card["balance"] + paid["amount"], 2)


def test_concurrent_replays_of_one_key_return_one_result(shop: Shop, world: World) -> None:
    order = _gift_card_paid_pending(world)
    session = login(shop, world.owner(order))
    args = {"order_id": order["order_id"], "reason": "ordered by mistake"}
    token = session.preview("cancel_pending_order", args).token
    tabs = [shop.session(session.conversation_id) for _ in range(3)]

    results = race(*(lambda s=s: s.confirm(token, "same-key") for s in tabs))

    assert all(isinstance(r, dict) for r in results), results
    assert results[0] == results[1] == results[2]
    history = export_tau2(shop.engine)["orders"][order["order_id"]]["payment_history"]
    assert [p["transaction_type"] for p in history] == ["payment", "refund"]


def test_two_previews_of_one_change_apply_once(shop: Shop, world: World) -> None:
    order = world.order("pending")
    session = login(shop, world.owner(order))
    args = {"order_id": order["order_id"], "reason": "no longer needed"}
    tokens = [session.preview("cancel_pending_order", args).token for _ in range(2)]

    results = race(*(lambda t=t, k=f"k{i}": session.confirm(t, k) for i, t in enumerate(tokens)))

    assert sum(isinstance(r, dict) for r in results) == 1
    assert any(isinstance(r, ConfirmationMismatch) for r in results)
    history = export_tau2(shop.engine)["orders"][order["order_id"]]["payment_history"]
    assert [p["transaction_type"] for p in history] == ["payment", "refund"]


def test_concurrent_changes_to_one_gift_card_lose_no_update(shop: Shop, world: World) -> None:
    by_card: dict[str, list[dict]] = defaultdict(list)
    for o in world.orders("pending", lambda o: o["payment_history"][0]["payment_method_id"].startswith("gift_card")):
        by_card[o["payment_history"][0]["payment_method_id"]].append(o)
    card, orders = next((c, os[:2]) for c, os in by_card.items() if len(os) >= 2)
    user = world.owner(orders[0])
    sessions = [login(shop, user) for _ in orders]
    tokens = [
        s.preview("cancel_pending_order", {"order_id": o["order_id"], "reason": "no longer needed"}).token
        for s, o in zip(sessions, orders, strict=True)
    ]

    results = race(*(lambda s=s, t=t: s.confirm(t, t[:16]) for s, t in zip(sessions, tokens, strict=True)))

    assert all(isinstance(r, dict) and r["status"] == "cancelled" for r in results), results
    refunded = sum(o["payment_history"][0]["amount"] for o in orders)
    assert _balance(shop, user["user_id"], card) == round(user["payment_methods"][card]["balance"] + refunded, 2)
