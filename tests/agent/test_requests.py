"""Requests the shopper words around the order: by its status ("my cancelled order"), with the source of
an address beside the target ("it's on my other orders"), and variant choices the shopper should hear.
Records are built here, in this file's own products."""

from __future__ import annotations

from shopagent.agent import addresses, resolve, variant_choice


def _order(order_id: str, status: str, *names: str) -> dict:
    items = [{"item_id": f"{order_id}-{i}", "name": n, "options": {}, "price": 10.0 + i} for i, n in enumerate(names)]
    return {"order_id": order_id, "status": status, "items": items, "address": {"city": "Austin", "state": "TX"}}


def _meant(text: str, *orders: dict) -> list[str]:
    return [o["order_id"] for o in resolve.orders_meant(text, list(orders))[0]]


def test_an_order_is_told_by_the_status_the_shopper_gives_it() -> None:
    done = _order("#W1", "delivered", "Desk Fan")
    gone = _order("#W2", "cancelled", "Rice Cooker")
    waiting = _order("#W3", "pending (item modified)", "Yoga Block")
    assert _meant("what was the tracking number of my canceled order?", done, gone, waiting) == ["#W2"]
    assert _meant("the one that is still pending", done, gone, waiting) == ["#W3"]
    assert _meant("where's the order I received last week", done, gone, waiting) == ["#W1"]
    # "received" about the order itself, not a status it has; two statuses tell nothing
    assert _meant("I have not received my order yet", done, gone, waiting) == ["#W1", "#W2", "#W3"]
    assert resolve.status_named("the delivered one or the pending one") is None


def test_other_orders_named_as_where_an_address_is_are_not_the_orders_to_change() -> None:
    asked = "I'd love to move the address of my rice cooker order to my Denver address. It's on my other orders."
    assert addresses.means_order_address(asked)  # "like to" / "want to" is not the new address's "to"
    assert addresses.means_order_address("I want to have the shipping address of my rug order changed to 4 Elm St, Waco, TX 76701")
    assert not resolve.mentions_all_orders(asked)
    assert not resolve.mentions_all_orders("use my Denver address from my previous orders")
    assert resolve.mentions_all_orders("please change the address on my other orders too")


def _board(item_id: str, length: str, finish: str, price: float) -> dict:
    return {"item_id": item_id, "options": {"length": length, "finish": finish}, "price": price, "available": True}


def test_variants_that_fit_equally_well_are_told_with_their_prices() -> None:
    current = {**_board("0", "60 cm", "matte", 50.0), "name": "Cutting Board"}
    variants = [current, _board("1", "45 cm", "matte", 55.0), _board("2", "45 cm", "glossy", 48.0),
                _board("3", "45 cm", "oiled", 61.0), _board("4", "75 cm", "matte", 70.0)]
    fits = variant_choice.alternatives("a shorter one please", current, variants)
    assert [v["item_id"] for v in fits] == ["1", "2", "3"]
    assert variant_choice.choose_variant("a shorter one please", current, variants)["item_id"] == "1"  # keeps the finish
    assert variant_choice.choose_variant("a shorter one, the most expensive", current, variants)["item_id"] == "3"
    # one fits, or an item id is named: nothing to choose between
    assert variant_choice.alternatives("a shorter glossy one", current, variants) == []
    assert variant_choice.alternatives("item 2", current, variants) == []


def test_an_order_moved_in_this_conversation_is_still_known_by_where_it_went_before() -> None:
    moved = {**_order("#W1", "pending", "Desk Fan"), "address": {"city": "Tulsa", "state": "OK"},
             "former_addresses": [{"city": "Boise", "state": "ID"}]}
    other = {**_order("#W2", "pending", "Yoga Block"), "address": {"city": "Fresno", "state": "CA"}}
    assert _meant("the one that was going to my aunt in Boise", moved, other) == ["#W1"]
    assert _meant("the order shipped to Fresno", moved, other) == ["#W2"]
