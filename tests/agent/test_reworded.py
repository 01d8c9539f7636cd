"""Reworded and spoken requests: a copy of another owned item asked in many words ("the same kettle I got
before", "make it match my old one"), several products listed without punctuation, requests announced
by count and kind ("two exchanges: …"), amounts of change ("500 pieces less"). Phrasings of our own."""

from typing import Any

import pytest

from shopagent.agent import resolve, variant_choice
from shopagent.agent.intents import Intent, IntentClassifier, punctuate
from shopagent.agent.store.tau2 import export_tau2

from .conftest import Say, audit

AMELIA = "amelia dot patel six nine two six at example dot com"  # delivered #W6497157: brown-framed sunglasses,
# a silver and a black smart watch; pending #W2079779: black-framed sunglasses; one gift card

_KETTLE = "7100000000"


def _kettle(item_id: str, color: str, size: str) -> dict[str, Any]:
    return {"item_id": item_id, "product_id": _KETTLE, "name": "Camping Kettle", "price": 40.0,
            "options": {"color": color, "size": size}, "available": True}


ON_ORDER = _kettle("7100000001", "green", "1 liter")  # not received yet
HAD = _kettle("7100000002", "copper", "2 liter")  # received earlier
KETTLES = [ON_ORDER, HAD, _kettle("7100000003", "copper", "1 liter"), _kettle("7100000004", "green", "2 liter")]
TENT = {"item_id": "7200000001", "product_id": "7200000000", "name": "Dome Tent", "price": 120.0,
        "options": {"color": "blue", "capacity": "2 person"}, "available": True}
OWNED = [("pending", ON_ORDER), ("delivered", HAD), ("delivered", TENT)]


@pytest.mark.parametrize("text", [
    "make my new kettle order the same kettle i received before",
    "switch the kettle i ordered to the same one as the one i got",
    "the camping kettle on its way: make it match the one i already have",
    "and the kettle i ordered changed to match my old one",
])
def test_a_copy_of_the_one_received_is_asked_in_many_words(text: str) -> None:
    copied = variant_choice.copied_options(text, ON_ORDER, OWNED)
    assert copied == {"color": "copper", "size": "2 liter"}
    assert variant_choice.variant_with(copied, ON_ORDER, KETTLES)["item_id"] == HAD["item_id"]


@pytest.mark.parametrize("text", [
    "the kettle doesn't match what i ordered, i want a copper one",  # a complaint, no model
    "keep the same size as now but in copper",  # the current item, not another one
])
def test_no_copy_without_another_item_as_the_model(text: str) -> None:
    assert variant_choice.copied_options(text, ON_ORDER, OWNED) == {}


def test_the_item_to_change_is_not_the_one_it_should_copy() -> None:
    """"Make my new kettle the same as the kettle I received": the received kettle is the model, so a delivered
    order's kettle is not the one to exchange, and the pending one is the one to change."""
    text = "two things swap my tent for a green one and make my new kettle order the same kettle i received before"
    assert resolve.chosen_items(text, [TENT, HAD], status="delivered", others=["Camping Kettle"]) == [TENT]
    assert resolve.chosen_items(text, [ON_ORDER], status="pending", others=["Dome Tent"]) == [ON_ORDER]
    assert resolve.copy_placed(text, "Camping Kettle", ["Dome Tent", "Camping Kettle"]) == "pending"
    assert resolve.copy_placed(text, "Dome Tent", ["Dome Tent", "Camping Kettle"]) is None


def test_each_product_gets_its_own_words_in_an_unpunctuated_list() -> None:
    names = ["Dome Tent", "Camping Kettle", "Water Bottle"]
    text = ("i'd like a large green dome tent instead of mine a steel water bottle with a blue lid instead of the "
            "one i got and the kettle i ordered changed to match my old one")
    tent, kettle, bottle = (variant_choice.words_about(text, name, names) for name in names)
    assert "green" in tent and "blue" not in tent and "match" not in tent
    assert "blue" in bottle and "green" not in bottle
    assert kettle.endswith("the kettle i ordered changed to match my old one") and "green" not in kettle
    # the answer to "what should each become?", said as one breathless list
    answer = "tent green four person water bottle steel blue lid kettle the same one as the kettle i already received"
    assert "steel" not in variant_choice.words_about(answer, "Dome Tent", names)
    assert variant_choice.words_about(answer, "Camping Kettle", names).endswith("the same one as the kettle i already received")
    # one product per clause: cut as before
    assert variant_choice.words_about("swap the tent for a green one", "Dome Tent", names) == "swap the tent for a green one"
    # a list of products sharing one wish stays together
    both = "return the tent and swap the water bottle and the kettle for their cheapest versions"
    assert "cheapest" in variant_choice.words_about(both, "Water Bottle", names)
    assert "cheapest" in variant_choice.words_about(both, "Camping Kettle", names)


def test_an_amount_of_change_is_not_a_value_asked_for() -> None:
    """"500 pieces less" from 1500 pieces is 1000 pieces, not a 500-piece puzzle; "one size smaller" is a step."""
    puzzles = [{"item_id": str(n), "product_id": "7300000000", "name": "Floor Puzzle", "price": 20.0, "available": True,
                "options": {"pieces": pieces, "theme": theme}}
               for n, (pieces, theme) in enumerate([("1500", "ocean"), ("500", "ocean"), ("1000", "ocean"), ("1000", "space")])]
    mine = puzzles[0]
    assert variant_choice.choose_variant("the puzzle with five hundred pieces less", mine, puzzles)["item_id"] == "2"
    assert variant_choice.choose_variant("a puzzle with 500 fewer pieces", mine, puzzles)["item_id"] == "2"
    assert variant_choice.choose_variant("the 500 pieces one", mine, puzzles)["item_id"] == "1"
    wants = variant_choice.relative_wants("one size smaller", {"size": "M"})
    assert [(w.key, w.direction, w.by) for w in wants] == [("size", -1, None)]


@pytest.mark.slow
@pytest.mark.parametrize(("text", "label"), [
    ("so two exchanges the scuffed trail shoes size ten is fine and the lamp for a brighter one", Intent.EXCHANGE_ITEM),
    ("Three returns: the blender, the toaster and the rug.", Intent.RETURN_ITEM),
    ("a couple of swaps my scarf for a red one and my gloves for a bigger pair", Intent.EXCHANGE_ITEM),
    ("uh two cancellations the desk order and the kettle order", Intent.CANCEL_ORDER),
    ("do two exchanges cost extra", Intent.POLICY_QUESTION),  # asks about exchanges, announces none
    ("some returns are free right", Intent.POLICY_QUESTION),
])
def test_requests_announced_by_count_and_kind(intents: IntentClassifier, text: str, label: Intent) -> None:
    assert intents.predict(punctuate(text)).label == label


@pytest.mark.slow
@pytest.mark.parametrize("opening", [
    "ok two things swap the silver smart watch for a gold one with a leather band and make my new sunglasses order "
    "the same sunglasses i received before",
    "i'd like a gold smart watch with a leather band instead of my silver one and the sunglasses i ordered changed "
    "to match my old pair",
])
def test_an_exchange_and_a_copy_for_a_pending_order_in_one_breath(say: Say, shop, opening: str) -> None:
    say(opening)
    say(AMELIA)
    for _ in range(2):
        preview = say("the gift card")
        assert preview.awaiting == "confirmation"
        say("yes")
    assert [e.tool for e in audit(shop, "change")] == ["exchange_delivered_order_items", "modify_pending_order_items"]
    orders = export_tau2(shop.engine)["orders"]
    assert orders["#W6497157"]["exchange_new_items"] == ["5694328282"]  # gold, leather, AMOLED like the silver one
    sunglasses = [i for i in orders["#W2079779"]["items"] if i["name"] == "Sunglasses"]
    assert [i["item_id"] for i in sunglasses] == ["9672174103"]  # the brown-framed pair received before


@pytest.mark.slow
def test_a_copy_for_the_pending_one_alone_changes_that_order(say: Say, shop) -> None:
    """The sunglasses "I just ordered" are the pending pair, though a delivered order holds sunglasses too."""
    say("i want the sunglasses i just ordered to be the same ones i got last time")
    say(AMELIA)
    preview = say("the gift card")
    assert preview.awaiting == "confirmation" and "#W2079779" in preview.text
    say("yes")
    assert [e.tool for e in audit(shop, "change")] == ["modify_pending_order_items"]
    items = export_tau2(shop.engine)["orders"]["#W2079779"]["items"]
    assert [i["item_id"] for i in items if i["name"] == "Sunglasses"] == ["9672174103"]
