"""Orders and addresses the shopper describes instead of naming: by contents, destination, age, or as
the source of an address to copy. Records are built here; the dialogue tests use the real τ² store."""

from __future__ import annotations

from shopagent.agent import addresses, resolve
from shopagent.agent.store.tau2 import export_tau2

from .conftest import Say, audit, order


def _order(order_id: str, *names: str, city: str = "Austin", state: str = "TX", **options: str) -> dict:
    items = [{"item_id": f"{order_id}-{i}", "name": n, "options": dict(options), "price": 20.0 + i}
             for i, n in enumerate(names)]
    return {"order_id": order_id, "items": items, "address": {"city": city, "state": state}}


def _meant(text: str, *orders: dict) -> list[str]:
    return [o["order_id"] for o in resolve.orders_meant(text, list(orders))[0]]


def test_an_order_is_told_by_the_first_word_of_a_product_it_alone_holds() -> None:
    camp = _order("#W1", "Sleeping Bag", "Thermos Flask", "Kayak Paddle")
    home = _order("#W2", "Sleeping Bag", "Desk Lamp")
    assert _meant("the one with the sleeping bag and the thermos", camp, home) == ["#W1"]
    assert _meant("the order with the sleeping bag and the desk lamp", camp, home) == ["#W2"]
    # a first word two products share, or that is an option of an item, tells nothing
    smart = _order("#W3", "Smart Watch")
    speaker = _order("#W4", "Smart Speaker", "Grill", type="electric")
    kettle = _order("#W5", "Electric Kettle")
    assert _meant("the smart one", smart, speaker) == ["#W3", "#W4"]
    assert _meant("the electric grill", speaker, kettle) == ["#W4"]


def test_an_order_is_told_by_where_it_was_sent_not_by_where_it_should_go() -> None:
    boston = _order("#W1", "Lamp", city="Boston", state="MA")
    denver = _order("#W2", "Rug", city="Denver", state="CO")
    assert _meant("the package I mailed to my sister in Denver", boston, denver) == ["#W2"]
    assert _meant("the one shipped to Massachusetts", boston, denver) == ["#W1"]
    assert _meant("please change it to my flat in Denver", boston, denver) == ["#W1", "#W2"]  # the new address
    # "all items except the rug" excludes an item, not the order holding it
    assert _meant("return everything but the rug from the order going to Colorado", boston, denver) == ["#W2"]


def test_an_order_whose_address_is_copied_is_not_the_one_to_change() -> None:
    camp = _order("#W1", "Canoe", city="Duluth", state="MN")
    home = _order("#W2", "Toaster")
    assert _meant("it goes to my old flat, switch it to my cabin, the address on my canoe order", camp, home) == ["#W2"]
    assert _meant("change the address of my canoe order to 3 Birch Rd, Ely, MN 55731", camp, home) == ["#W1"]
    assert _meant("send my order to the same place my canoe went to", camp, home) == ["#W2"]
    assert resolve.orders_named("move #W1234567 to the address on order #W7654321") == ["#W1234567"]
    assert resolve.orders_named("ship w one two three four five six seven like order w seven six five four three two one") \
        == ["#W1234567"]
    assert resolve.orders_named("please update the shipping address of #W1234567 to 5 Pine Rd, Reno, NV 89501") == ["#W1234567"]


def test_age_picks_among_orders_in_the_order_they_were_placed() -> None:
    first, second = _order("#W1", "Tent"), _order("#W2", "Stove")
    assert _meant("the older one", first, second) == ["#W1"]
    assert _meant("the more recent order", first, second) == ["#W2"]
    assert resolve.pick_by_recency("cancel the earlier one of #W2 and #W1", ["#W1", "#W2"]) == "#W1"
    assert resolve.pick_by_recency("the tent one", ["#W1", "#W2"]) is None  # no age said: nothing picked


def test_ids_in_the_sentence_that_asks_for_the_change_decide() -> None:
    text = ("Both #W1111111 and #W2222222 are slow. Drop the newer one. "
            "And please update the address of #W1111111 to 5 Pine Rd, Reno, NV 89501.")
    assert resolve.orders_asked("modify_order", text) == ["#W1111111"]
    assert resolve.orders_asked("cancel_order", text) == []
    assert resolve.orders_asked("order_status", text) == []


def test_an_address_named_by_an_order_it_is_on_not_by_an_item_being_changed() -> None:
    home = {"address1": "1 Elm St", "address2": "", "city": "Austin", "state": "TX", "zip": "78701", "country": "USA"}
    lake = {**home, "address1": "5 Lake Rd", "city": "Duluth", "state": "MN", "zip": "55802"}
    known = [("default", home), ("#W1111111 | Kettle | Canoe", lake)]
    assert addresses.address_mentioned("the address on my canoe order", known, home) == lake
    assert addresses.address_mentioned("ship it where the order with the canoe went", known, home) == lake
    assert addresses.address_mentioned("to the one my canoe was sent to", known, home) == lake
    assert addresses.address_mentioned("swap the kettle in my order for a steel one, to my default address", known, lake) == home
    assert addresses.address_mentioned("make the kettle bigger please", known, home) is None
    assert addresses.address_mentioned("my Duluth address from the other order", known, lake) is None  # goes there now


def test_address_requests_told_apart() -> None:
    both = ("I moved across town. My order is still headed to my old flat, please switch it to my new place, "
            "the address on my canoe order. Also set my default address to the new place.")
    assert addresses.order_address_request(both) == ("My order is still headed to my old flat, please switch it to my "
                                                   "new place, the address on my canoe order.")
    assert addresses.order_address_request("My order is headed to my old flat, please switch it to 2 Oak St, Reno, NV 89501.") is None
    assert addresses.means_order_address("for my pending order, change the address to my default one")
    assert addresses.asks_address_change("please use my new address") and addresses.asks_address_change("1 Elm St, Austin, TX 78701")
    assert not addresses.asks_address_change("my Duluth address from my other order")


LIAM = "liam.santos7226@example.com"  # pending #W6794581 (Cycling Helmet, Tea Kettle; Chicago), #W4011814 (Austin, default)


def test_an_order_and_the_account_move_to_the_address_of_another_order(say: Say, shop) -> None:
    say(f"hi, {LIAM}")
    first = say("I've relocated to Chicago. My order is still headed to my Austin place, please switch it to my new "
                "flat, the address on my helmet order. And set my account's default address to the new flat as well.")
    assert first.awaiting == "confirmation" and "410 Maple Drive" in first.text
    second = say("yes")
    assert second.awaiting == "confirmation" and "#W4011814" in second.text and "410 Maple Drive" in second.text
    say("yes")
    chicago = order(shop, "#W6794581")["address"]
    user = next(u for u in export_tau2(shop.engine)["users"].values() if u["email"] == LIAM)
    assert order(shop, "#W4011814")["address"] == chicago and user["address"] == chicago
    again = say("the new flat, the one from my helmet order")  # said again once done: nothing more to do
    assert again.awaiting != "address" and len(audit(shop, "change")) == 2


def test_the_order_is_found_from_where_it_was_sent(say: Say) -> None:
    say("where is my order?")
    asked = say("liam.thomas4271@example.com")  # pending orders going to Washington (DC) and Seattle
    assert asked.awaiting == "order_id"
    status = say("the one I had delivered to my brother up in Seattle")
    assert "#W1129578" in status.text and status.awaiting == "none"
