"""Spoken and reworded customers: messages with no punctuation, fillers, "i'd like" for "I want",
several requests run together (end to end on the real τ² store, templates only; phrasings of our own)."""

import json

import pytest

from shopagent.agent import addresses, entities, resolve
from shopagent.agent.intents import Intent, IntentClassifier, punctuate, segments
from shopagent.agent.store.tau2 import export_tau2

from .conftest import Say, audit

FATIMA = "fatima.wilson5906@example.com"  # default address Austin; delivered #W7990410 went to Los Angeles;
# pending #W1443906 (office chair, grill) goes to Austin


@pytest.mark.parametrize(
    "text",
    [
        "how many kinds of tents are there",  # the question's own verb, not a new question
        "which sizes do you have for the raincoat",
        "i want a refund the blender broke",  # "refund" after an article is a noun
    ],
)
def test_one_spoken_question_stays_one_sentence(text: str) -> None:
    assert punctuate(text).rstrip("?.") == text


def test_fillers_and_answer_words_are_no_request_of_their_own() -> None:
    assert segments("uh yes please also send my other orders to the new flat") == [
        "uh yes please send my other orders to the new flat"]
    assert segments("okay sure then cancel the umbrella order") == ["okay sure cancel the umbrella order"]


def test_what_is_wrong_with_the_current_one_is_not_wished_for() -> None:
    """"too large" describes the coat the shopper has; "large too" asks for it."""
    coats = [{"item_id": "1", "name": "Rain Coat", "options": {"size": "L", "color": "olive"}},
             {"item_id": "2", "name": "Rain Coat", "options": {"size": "M", "color": "olive"}}]
    (said,) = entities.find_options("the rain coat i got is too large i need one size smaller", coats)
    assert said.values == {"size": "L"} and said.negated
    (said,) = entities.find_options("i'd take the olive one in large too", coats)[1:]
    assert said.values == {"size": "L"} and not said.negated


@pytest.mark.slow
@pytest.mark.parametrize(
    ("text", "label"),
    [
        # the address of an order made the account's default is the account's
        ("could my home address be the chicago one from my last order", Intent.UPDATE_ADDRESS),
        # a change request run together with a catalog question is labelled by the request
        ("i want all the towels in my pending order changed to the grey ones and how many towel colors are there",
         Intent.MODIFY_ORDER),
        # replacing something received that came damaged or used is an exchange
        ("the toaster i got arrived with a crack i want a new one just like it", Intent.EXCHANGE_ITEM),
    ],
)
def test_spoken_requests_are_labelled_by_the_guideline(intents: IntentClassifier, text: str, label: Intent) -> None:
    assert intents.predict(punctuate(text)).label == label


def test_an_account_address_change_is_not_an_order_change_already_done(say: Say, shop) -> None:
    """Setting the default address here does not move a pending order there: asking for that next is new."""
    say(f"my email is {FATIMA}")
    preview = say("please make the los angeles address from my delivered order my default address")
    assert preview.awaiting == "confirmation" and "Los Angeles" in preview.text
    offered = say("yes")  # the pending order still goes to the old default address: it is offered the new one
    assert "already done" not in offered.text
    assert offered.awaiting == "confirmation" and "#W1443906" in offered.text
    say("uh yes please also send my pending order to that los angeles address")
    assert [e.tool for e in audit(shop, "change")] == ["modify_user_address", "modify_pending_order_address"]
    assert export_tau2(shop.engine)["orders"]["#W1443906"]["address"]["city"] == "Los Angeles"


def test_a_spoken_count_question_after_a_change_request_counts_every_option(say: Say, shop) -> None:
    """The options of the change asked for ("gas", "portable") do not filter the count asked after "also"."""
    grill = next(p for p in export_tau2(shop.engine)["products"].values() if p["name"] == "Grill")
    available = sum(v["available"] for v in grill["variants"].values())
    reply = say("i'd like to switch my pending grill to a gas portable one also how many grill options do you have right now")
    assert f"{available} Grill options" in reply.text, json.dumps(reply.text)


def test_an_imperative_on_it_starts_a_sentence_unless_it_continues_one() -> None:
    assert punctuate("the rug came with a stain replace it please") == "the rug came with a stain. replace it please."
    assert punctuate("my parcel has the wrong flat number update it and my account address") == (
        "my parcel has the wrong flat number. update it and my account address.")
    for text in ("i'd like to swap it for a bigger one", "could you cancel it for me"):
        assert "." not in punctuate(text)
    # a new request right after one done to "them", and one about "my … order" after a description
    assert punctuate("please exchange them the kettle from my march order for my open order the rug in grey and my office"
                     " address") == ("please exchange them. the kettle from my march order. for my open order the rug in"
                                     " grey and my office address.")
    assert punctuate("is it the grey one") == "is it the grey one?"
    assert punctuate("could you make my rug the grey one and send the order to my office") == (
        "could you make my rug the grey one? and send the order to my office.")
    assert "." not in punctuate("i'd like to send back the rug")
    assert "." not in punctuate("move the address for my open order to my office")


def test_it_and_the_profile_address_are_an_orders_address_and_the_accounts() -> None:
    said = "My parcel still has my old flat. Update it and my profile address to 9 Birch Lane, Reno, NV 89501."
    assert addresses.means_both_addresses(said) and not addresses.means_account_address(said)
    assert addresses.means_account_address("update my profile address to 9 Birch Lane, Reno, NV 89501")


def test_reworded_fallbacks_and_exclusions_keep_their_meaning() -> None:
    # the order offered as the fallback is the whole order, and "the only way" asks for nothing "only"
    assert resolve.whole_order_cancel("drop the candle from my open order or cancel the order if that's the only way")
    assert resolve.whole_order_cancel("take the candle out but don't cancel the order") is False
    # a bare "not" after "everything" leaves the thing out
    assert resolve.without_exclusion("uh refund everything possible not the kettle") == "uh refund everything possible "
    assert resolve.without_exclusion("the rug is not the right size") == "the rug is not the right size"
    # a verb that moves a parcel, with an order as its object, is about the order's address
    assert addresses.means_order_address("can you reroute my denver order to my default address")


def test_the_cancel_reason_is_taken_from_an_answer_that_names_the_item(say: Say, shop) -> None:
    """Asked why, the shopper names the thing again ("the grill i no longer need it"): the answer, not a new request."""
    say(f"my email is {FATIMA}")
    asked = say("cancel my pending order please")
    assert asked.awaiting == "reason"
    preview = say("um the grill and the chair i no longer need them")
    assert preview.awaiting == "confirmation" and "no longer needed" in preview.text, preview.text


def test_it_and_the_profile_address_both_change_when_spoken(say: Say, shop) -> None:
    """"…has my old address change it and my profile address to …": the account's and that order's, each once."""
    say(f"my email is {FATIMA}")
    first = say("my pending order has my old austin address change it and my profile address to the los angeles one"
                " from my delivered order")
    assert first.awaiting == "confirmation" and "Los Angeles" in first.text
    second = say("yes")
    assert second.awaiting == "confirmation" and "#W1443906" in second.text, second.text
    say("yes")
    assert sorted(e.tool for e in audit(shop, "change")) == ["modify_pending_order_address", "modify_user_address"]
    assert export_tau2(shop.engine)["orders"]["#W1443906"]["address"]["city"] == "Los Angeles"
