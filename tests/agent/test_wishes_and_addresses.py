"""Relative and compared wishes for a new variant, an address change said in pieces, pending orders
left at a corrected address, and a lost item that stays refused."""

from __future__ import annotations

from typing import Any

from shopagent.agent import addresses, variant_choice
from shopagent.agent.intents import segments
from shopagent.agent.store.tau2 import export_tau2

from .conftest import Say, audit, order


def _set(item_id: str, price: float, pieces: str, level: str, theme: str) -> dict[str, Any]:
    return {"item_id": item_id, "price": price, "available": True,
            "options": {"pieces": pieces, "difficulty level": level, "theme": theme}}


# A building-block set: pieces, difficulty and theme.
SETS = [
    _set("7000000001", 60.0, "500", "expert", "castle"),
    _set("7000000002", 35.0, "250", "beginner", "space"),
    _set("7000000003", 38.0, "250", "beginner", "castle"),
    _set("7000000004", 45.0, "500", "beginner", "castle"),
    _set("7000000005", 70.0, "1000", "expert", "city"),
    _set("7000000006", 72.0, "1000", "expert", "castle"),
    _set("7000000007", 50.0, "250", "intermediate", "castle"),
]
MINE = {"item_id": "7000000001", "product_id": "7100000000", "name": "Building Set", "price": 60.0,
        "options": {"pieces": "500", "difficulty level": "expert", "theme": "castle"}}


def test_superlatives_change_the_options_the_current_item_is_described_by() -> None:
    # "500-piece expert" only says which set it is now: the fewest pieces and the easiest level are asked
    for wish in ("my 500-piece expert set is too hard, swap it for the easiest one with the fewest pieces",
                 "the expert 500 piece building set: the simplest one, and the smallest number of pieces, the fewest"):
        assert variant_choice.choose_variant(wish, MINE, SETS)["item_id"] == "7000000003"  # castle kept


def test_a_comparison_between_option_values_weighs_them_wherever_said() -> None:
    # the preferred theme said twice: first softly, then against the other one
    said = ("the building set for one with 500 more pieces, preferably a castle one. "
            "building set: 500 more pieces, expert, castle over city")
    assert variant_choice.choose_variant(said, MINE, SETS)["item_id"] == "7000000006"
    assert variant_choice.choose_variant("500 more pieces, I'd prefer city to castle", MINE, SETS)["item_id"] == "7000000005"
    chosen = variant_choice.choose_variant("500 more pieces please, city rather than castle", MINE, SETS)
    assert chosen["item_id"] == "7000000005"


def test_an_address_said_over_several_sentences_is_one_request() -> None:
    parts = segments("Where is my lamp? I think I mistyped my address. It's 9 Birch Court, Unit 2, Dallas, TX 75201. "
                     "Please correct it on my orders and on my profile.")
    assert addresses.address_parts(parts) == (1, 3)
    # a sentence sending an order to an address of its own is another request
    alone = segments("Send order #W1234567 to my default address. My new default address is 9 Birch Court, Dallas, TX 75201.")
    assert addresses.address_parts(alone) is None


KHAN = "yusuf.khan7390@example.com"  # two pending orders, both shipping to the default address


def _yes_to_all(say: Say, limit: int = 8) -> None:
    for _ in range(limit):
        if say("yes").awaiting != "confirmation":
            return


def test_an_address_correction_in_pieces_moves_the_account_and_every_order(say: Say, shop) -> None:
    say(KHAN)
    first = say("I think I mistyped my address; the right one is 9 Birch Court, Unit 2, Dallas, TX 75201. "
                "Please correct it on my orders and on my profile.")
    assert first.awaiting == "confirmation"
    _yes_to_all(say)
    user = next(u for u in export_tau2(shop.engine)["users"].values() if u["email"] == KHAN)
    assert user["address"]["address1"] == "9 Birch Court"
    for order_id in ("#W1787190", "#W3579467"):
        assert order(shop, order_id)["address"]["address1"] == "9 Birch Court"
    assert len(audit(shop, "change")) == 3


def test_pending_orders_at_the_old_default_address_are_offered_the_new_one(say: Say, shop) -> None:
    say(KHAN)
    say("please set my default address to 9 Birch Court, Dallas, TX 75201")
    offered = say("yes")
    assert "#W1787190" in offered.text and "#W3579467" in offered.text and offered.awaiting == "confirmation"
    say("no")  # the first order stays where it goes
    say("yes")
    assert order(shop, "#W1787190")["address"]["address1"] != "9 Birch Court"
    assert order(shop, "#W3579467")["address"]["address1"] == "9 Birch Court"


def test_a_lost_item_stays_refused_when_named_again(say: Say, shop) -> None:
    say("liam.lee9297@example.com")  # delivered #W9710999 holds a coffee maker
    refused = say("I misplaced my coffee maker, could you refund it?")
    assert "lost" in refused.text and refused.awaiting == "none"
    again = say("about the coffee maker, I'd like to swap it for a different one")
    assert "lost" in again.text and again.awaiting == "none" and "instead" not in again.text
    assert audit(shop, "change") == []


def test_an_item_swap_and_an_address_fix_in_one_sentence_are_both_done(say: Say, shop) -> None:
    say(KHAN)  # the kettle is in pending #W3579467, alone
    asked = say("could you swap my electric kettle for the cheapest one and fix my address to 9 Birch Court, Dallas, TX 75201")
    assert asked.awaiting == "order_id"  # the address first (an items change locks the order), for which order?
    first = say("the order with the kettle")
    assert first.awaiting == "confirmation" and "9 Birch Court" in first.text and "#W3579467" in first.text
    assert say("yes").awaiting == "payment_method"  # then the kettle
    assert say("the original payment method").awaiting == "confirmation"
    say("yes")
    changed = order(shop, "#W3579467")
    assert changed["address"]["address1"] == "9 Birch Court" and changed["status"] == "pending (item modified)"
