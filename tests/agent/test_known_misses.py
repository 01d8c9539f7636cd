"""Phrasings once misread, each a class: a wish with no change verb said while a change is under way, a
status-conditioned cancel in the same sentence as a return, "that's what I want my watch to be instead of
…", and a participle asked for with no "want" (end to end on the real τ² store, templates only; customers
and phrasings of our own)."""

import pytest

from shopagent.agent import resolve
from shopagent.agent.intents import segments

from .conftest import Say, order

ETHAN = "ethan sanchez, zip 78782"  # pending #W9102111 (e-reader 7-inch Wi-Fi + Cellular 8GB, luggage set 2-piece
# silver hardshell, grill, …); delivered #W9250394
EVAN = "ethan sanchez, zip 85093"  # pending #W7147989 (grill, kettle, coffee maker, …); delivered #W5560533
# (backpack grey small nylon laptop, smart watch gold metal AMOLED, kettle 2L glass black); a gift card only


@pytest.mark.parametrize(
    ("text", "action"),
    [("the rice cooker and the toaster swapped to the cheapest versions", "exchange"),
     ("my headphones exchanged for the white ones please", "exchange"),
     ("the speaker I bought last month traded for the bigger one", "exchange"),
     ("the blender sent back for a refund, thanks", "return"),
     ("I exchanged it for a blue one last week", None),
     ("it was changed to express shipping", None),
     ("my parcel arrived with a dent", None),
     ("the jacket I ordered for my son", None)],
)
def test_a_participle_asks_with_no_want_but_a_subject_makes_it_a_story(text: str, action: str | None) -> None:
    assert resolve.action_asked(text) == action


@pytest.mark.parametrize(
    ("text", "action"),
    [("Walnut, 3 shelves: that's what I'd like my bookcase to be instead of the pine one", "exchange"),
     ("I want my blender to be the red one rather than the grey", "exchange"),
     ("I want my order to be delivered before Friday", None),
     ("I need the desk to be assembled", None)],
)
def test_what_an_owned_item_should_be_instead_is_a_change(text: str, action: str | None) -> None:
    assert resolve.action_asked(text) == action


def test_a_status_condition_starts_a_request_a_failure_condition_does_not() -> None:
    assert segments("send back the toaster, and if the rug hasn't shipped yet cancel that order too") == [
        "send back the toaster", "if the rug hasn't shipped yet cancel that order too"]
    assert len(segments("swap the toaster for a red one and if it's out of stock cancel it")) == 1


def test_a_return_with_a_cancel_conditioned_on_another_orders_status(say: Say, shop) -> None:
    say(EVAN)
    say("please return the smart watch, and if the coffee maker hasn't shipped yet cancel that order too")
    say("the gift card")
    done = say("yes")
    assert done.awaiting == "reason" and "#W7147989" in done.text
    say("I don't need it anymore")
    say("yes")
    assert order(shop, "#W5560533")["status"] == "return requested"
    assert order(shop, "#W7147989")["status"] == "cancelled"


def test_another_item_with_no_verb_joins_the_change_waiting_for_its_payment(say: Say, shop) -> None:
    say(ETHAN)
    assert say("I want to change the e-reader in my pending order to the 32GB one").awaiting == "payment_method"
    added = say("oh and the luggage set, a red softshell one please")
    assert added.awaiting == "payment_method"
    preview = say("the gift card")
    assert "Change 2 item(s)" in preview.text and "softshell" in preview.text
    say("yes")
    ids = {i["name"]: i["item_id"] for i in order(shop, "#W9102111")["items"]}
    assert ids["E-Reader"] == "4273929280" and ids["Luggage Set"] == "7160999700"  # 32GB; red softshell 2-piece


def test_a_delivered_item_added_with_a_colon_is_exchanged_in_the_same_exchange(say: Say, shop) -> None:
    say(EVAN)
    assert say("I want to exchange the smart watch for the gold leather LCD one").awaiting == "payment_method"
    say("and the backpack: make it the green polyester one with a laptop compartment")
    say("yes")
    assert sorted(order(shop, "#W5560533")["exchange_new_items"]) == ["3557711149", "9408160950"]  # backpack, watch


def test_the_payment_answer_naming_another_item_adds_nothing(say: Say, shop) -> None:
    say(EVAN)
    say("I want to exchange the smart watch for the gold leather LCD one")
    preview = say("the gift card, the one I paid the backpack with")
    assert "Exchange 1 item(s)" in preview.text and "Backpack" not in preview.text


def test_what_the_watch_should_be_instead_before_sign_in(say: Say, shop) -> None:
    say("Silver with a leather band and an LCD screen, that's what I'd like my smart watch to be instead of the gold one.")
    assert say(EVAN).awaiting == "payment_method"
    say("gift card")
    say("yes")
    assert order(shop, "#W5560533")["exchange_new_items"] == ["9811090008"]  # silver, leather, LCD


def test_items_swapped_to_the_cheapest_with_a_question_after(say: Say, shop) -> None:
    say("Budget's tight: the backpack and the kettle I got swapped to the cheapest versions please. What would I save?")
    assert say(EVAN).awaiting == "payment_method"
    say("the gift card")
    say("yes")
    assert len(order(shop, "#W5560533")["exchange_items"]) == 2


def test_a_shortened_option_word_tells_two_items_apart() -> None:
    mowers = [{"item_id": "1", "name": "Lawn Mower", "options": {"type": "push", "fuel": "electric"}},
              {"item_id": "2", "name": "Lawn Mower", "options": {"type": "robotic", "fuel": "electric"}},
              {"item_id": "3", "name": "Hedge Trimmer", "options": {"blade": "24 inch"}}]
    chosen = resolve.chosen_items("the hedge trimmer plus the robot mower", mowers, status="delivered")
    assert sorted(i["item_id"] for i in chosen) == ["2", "3"]
    assert resolve.unclear_items("the hedge trimmer plus the robot mower", mowers) == []


def test_an_item_added_when_asked_to_confirm_is_previewed_again_with_it(say: Say, shop) -> None:
    say(ETHAN)
    say("I want to change the e-reader in my pending order to the 32GB one")
    assert say("paypal").awaiting == "confirmation"
    again = say("and the luggage set, a red softshell one please")
    assert again.awaiting == "confirmation" and "Change 2 item(s)" in again.text
    say("yes")
    assert {i["item_id"] for i in order(shop, "#W9102111")["items"]} >= {"4273929280", "7160999700"}


def test_each_sentence_keeps_the_item_named_before_its_verb() -> None:
    text = "Phone case: no use without the phone, cancel it. Slippers: send them back."
    assert "Slippers" in resolve.clauses_for("return", text) and "phone" not in resolve.clauses_for("return", text)
    assert "Slippers" not in resolve.clauses_for("cancel", text)
    shared = "I bought a rug and a mirror. Return the rug. Exchange the mirror for a round one."
    assert resolve.clauses_for("exchange", shared).startswith("I bought a rug and a mirror.")
    assert "rug" not in resolve.clauses_for("exchange", shared).split(".", 1)[1]
