"""Resolving shopper wording against real τ² records (read in place, never copied)."""

import json
from pathlib import Path

import pytest

from shopagent.agent import resolve


@pytest.fixture(scope="module")
def db(tau2_dir: Path) -> dict:
    return json.loads((tau2_dir / "db.json").read_text())


@pytest.mark.parametrize(
    "text,expected",
    [("yes", True), ("Yes please, go ahead", True), ("ok", True), ("sure thing", True),
     ("no", False), ("No, don't do that", False), ("wait", False),
     ("what is the total?", None), ("the keyboard", None)],
)
def test_yes_or_no(text: str, expected: bool | None) -> None:
    assert resolve.yes_or_no(text) is expected


def test_items_by_product_name_and_head_noun(db: dict) -> None:
    order = db["orders"]["#W2378156"]
    chosen = resolve.items_mentioned("I want to return the cleaner, headphones and the smart watch", order["items"])
    assert sorted(i["name"] for i in chosen) == ["Headphones", "Smart Watch", "Vacuum Cleaner"]
    assert resolve.items_mentioned("the thermostat", order["items"])[0]["item_id"] == "4983901480"
    assert resolve.items_mentioned("my t-shirts", order["items"]) == []
    assert resolve.items_mentioned("the order with the thermostat.", order["items"])[0]["name"] == "Smart Thermostat"


def test_variant_choice_follows_asked_options(db: dict) -> None:
    order = db["orders"]["#W2378156"]
    keyboard = next(i for i in order["items"] if i["name"] == "Mechanical Keyboard")
    variants = db["products"][keyboard["product_id"]]["variants"].values()
    choice = resolve.choose_variant("same keyboard but with clicky switches, or no backlight if needed", keyboard, variants)
    assert choice is not None
    assert choice["options"]["switch type"] == "clicky" and choice["available"]
    assert choice["options"]["size"] == keyboard["options"]["size"]  # unmentioned options are kept
    thermostat = next(i for i in order["items"] if i["name"] == "Smart Thermostat")
    variants = db["products"][thermostat["product_id"]]["variants"].values()
    choice = resolve.choose_variant("one compatible with Google Home instead", thermostat, variants)
    assert choice is not None and choice["item_id"] == "7747408585"  # Google Assistant, black: colour kept
    assert resolve.choose_variant("a different one please", thermostat, variants) is None


def test_payment_method_by_kind_brand_digits_and_original() -> None:
    methods = [
        {"id": "credit_card_1", "source": "credit_card", "brand": "visa", "last_four": "1234"},
        {"id": "credit_card_2", "source": "credit_card", "brand": "mastercard", "last_four": "9876"},
        {"id": "gift_card_1", "source": "gift_card", "balance": 40.0},
        {"id": "paypal_1", "source": "paypal"},
    ]
    said = lambda text: (resolve.payment_method_mentioned(text, methods, "credit_card_2") or {}).get("id")  # noqa: E731
    assert said("my visa please") == "credit_card_1"
    assert said("the card ending in nine eight seven six") == "credit_card_2"
    assert said("put it on the gift card") == "gift_card_1"
    assert said("PayPal") == "paypal_1"
    assert said("the original payment method") == "credit_card_2"
    assert said("my credit card") is None  # two cards: ambiguous, the dialogue asks


def test_all_items_except() -> None:
    items = [{"item_id": str(i), "name": n, "options": {}} for i, n in enumerate(["Desk Lamp", "Coffee Maker", "Water Bottle"])]
    assert [i["name"] for i in resolve.chosen_items("return everything except the coffee maker", items)] == ["Desk Lamp", "Water Bottle"]
    assert len(resolve.chosen_items("all of the items please", items)) == 3
    assert [i["name"] for i in resolve.chosen_items("just the lamp.", items)] == ["Desk Lamp"]


@pytest.mark.parametrize(
    "text,reason",
    [("I ordered it by mistake", "ordered by mistake"), ("don't need it anymore", "no longer needed"),
     ("I changed my mind", "no longer needed"), ("just cancel it", None)],
)
def test_cancel_reason(text: str, reason: str | None) -> None:
    assert resolve.cancel_reason(text) == reason


def test_parse_address() -> None:
    parsed = resolve.parse_address("Please send it to 123 Elm Street, Suite 4, Austin, TX 78701, USA")
    assert parsed == {"address1": "123 Elm Street", "address2": "Suite 4", "city": "Austin", "state": "TX",
                      "zip": "78701", "country": "USA"}
    assert resolve.parse_address("45 Oak Ave, Denver, CO 80202")["address2"] == ""
    assert resolve.parse_address("somewhere in Denver") is None
