"""Conditions on facts the store knows ("if it costs more than $X"), "every … except X" scopes, and
requests the store cannot do as asked (removing one item from a pending order): end to end on the real
τ² store with templates only, in phrasings and with products of our own."""

import pytest

from shopagent.agent import resolve

from .conftest import Say, audit, order

IVAN = "ivan.kim1689@example.com"  # pending #W6443279 (skateboard $189.57, tea kettle) and
# pending #W2493472 (laptop, smart watch, vacuum cleaner), both paid by credit card
FATIMA = "fatima.wilson5906@example.com"  # pending #W1443906 (office chair, grill); delivered #W7990410
# (kettle, headphones, bookshelf; PayPal) and #W4556683 (kettle, bottle, earbuds, espresso machine, speaker; card)


def _changes(shop) -> list[str]:
    return [entry.tool for entry in audit(shop, "change")]


def test_a_price_condition_that_does_not_hold_changes_nothing(say: Say, shop) -> None:
    say(f"Hello, {IVAN}")
    reply = say("If the skateboard cost more than $500, cancel it for me, I don't need it.")
    assert "$189.57" in reply.text and "not more than $500.00" in reply.text
    assert reply.awaiting == "none"
    assert not _changes(shop) and order(shop, "#W6443279")["status"] == "pending"


def test_removing_one_item_is_refused_honestly_and_never_grows_into_a_cancellation(say: Say, shop) -> None:
    say(f"Hello, {IVAN}")
    reply = say("if the skateboard is over one hundred dollars please take only the skateboard off my order "
                "but do not cancel the entire order")
    assert "$189.57" in reply.text and "more than $100.00" in reply.text  # the condition holds, and is said
    assert "Tea Kettle" in reply.text  # what a cancellation would also take
    assert "haven't cancelled" in reply.text and reply.awaiting == "none"
    assert not _changes(shop) and order(shop, "#W6443279")["status"] == "pending"


def test_the_whole_order_is_cancelled_only_when_the_shopper_allowed_it(say: Say, shop) -> None:
    say(f"Hi, {IVAN}")
    preview = say("I don't need the laptop and the smart watch anymore, cancel them. If you can't cancel only "
                  "some items, then cancel the whole order.")
    assert preview.awaiting == "confirmation"
    assert "Vacuum Cleaner" in preview.text and "#W2493472" in preview.text
    say("yes")
    assert order(shop, "#W2493472")["status"] == "cancelled"
    # "those items" are the ones just cancelled: the other order holds none of them
    again = say("Please cancel any other order with those items as well.")
    assert again.awaiting == "none"
    assert _changes(shop) == ["cancel_pending_order"] and order(shop, "#W6443279")["status"] == "pending"


def test_every_order_except_one_product_cancels_and_returns_the_rest(say: Say, shop) -> None:
    reply = say(f"{FATIMA}: please cancel or return all my orders except the kettles, I don't need any of it anymore.")
    for _ in range(8):  # cancel the pending order, then return the delivered ones' other items
        if reply.awaiting == "none":
            break
        reply = say("yes" if reply.awaiting == "confirmation" else "the original payment method")
    assert order(shop, "#W1443906")["status"] == "cancelled"
    kettles = {i["item_id"] for o in ("#W7990410", "#W4556683") for i in order(shop, o)["items"] if i["name"] == "Electric Kettle"}
    returned = {i for o in ("#W7990410", "#W4556683") for i in order(shop, o).get("return_items") or []}
    assert returned and not returned & kettles
    assert len(returned) == 2 + 4  # headphones, bookshelf; bottle, earbuds, espresso machine, speaker


@pytest.mark.parametrize(("text", "price", "holds"), [
    ("If it's more than $300, remove the speaker", 302.67, True),
    ("if its more than three hundred dollars remove the speaker", 299.0, False),
    ("return the lamp if it cost at least $50", 50.0, True),
    ("only if the order total is under 1,000 dollars cancel it", 1200.0, False),
])
def test_price_conditions_are_read_in_written_and_spoken_form(text: str, price: float, holds: bool) -> None:
    condition = resolve.price_condition(text)
    assert condition is not None and condition.holds(price) is holds
    assert condition.about_total is ("total" in text)


def test_a_condition_about_the_catalog_is_not_one_about_the_owned_item() -> None:
    assert resolve.price_condition("swap my kettle for a cheaper one if there is one under $80") is None
    assert resolve.price_condition("if that's not available, cancel it") is None


def test_what_the_shopper_says_about_cancelling_the_whole_order() -> None:
    assert resolve.whole_order_cancel("cancel the mug; if you can't, cancel the whole order") is True
    assert resolve.whole_order_cancel("drop the mug but never cancel my entire order") is False
    assert resolve.whole_order_cancel("cancel just the mug please") is False
    assert resolve.whole_order_cancel("cancel the mug") is None


def test_scopes_over_orders_and_items() -> None:
    assert resolve.mentions_all_orders("do the same for my other orders")
    assert resolve.mentions_all_orders("All of them except the lamp.")
    assert not resolve.mentions_all_orders("return all of them from the lamp order")
    items = [{"item_id": "1", "name": "Desk Lamp", "options": {}}, {"item_id": "2", "name": "Yoga Mat", "options": {}}]
    assert [i["item_id"] for i in resolve.chosen_items("return every item except the lamp", items)] == ["2"]
    assert [i["item_id"] for i in resolve.excluded_items("return everything but not the lamp", items)] == ["1"]
    assert resolve.cancel_or_return("Return or cancel whatever you can")


def test_items_chosen_by_a_description_the_store_cannot_check_are_asked_for(say: Say, shop) -> None:
    say(f"Hi, {IVAN}")
    asked = say("Please cancel all the outdoor stuff I ordered, I don't need it.")
    assert asked.awaiting == "items" and "outdoor" in asked.text and "Skateboard" in asked.text
    assert not _changes(shop)
    preview = say("the skateboard and the tea kettle")  # the whole of #W6443279
    assert preview.awaiting == "confirmation" and "#W6443279" in preview.text and "#W2493472" not in preview.text


def test_a_description_answered_with_another_description_is_not_guessed() -> None:
    assert resolve.described_scope("cancel or return everything I bought that isn't for the kitchen") == "for the kitchen"
    assert resolve.described_scope("return everything except the lamp") is None
    assert resolve.described_scope("return everything that's in my last order") is None


def test_a_return_waits_for_its_price_condition(say: Say, shop) -> None:
    say(f"Hello, {FATIMA}")
    reply = say("Return the headphones from my Los Angeles order, but only if they cost at least $400.")
    assert "$353.76" in reply.text and "not at least $400.00" in reply.text and reply.awaiting == "none"
    assert not _changes(shop)
