"""Held-out phrasings: described short names, options kept together, "not the X" lists, product "cards"."""

from __future__ import annotations

from typing import Any

import pytest

from shopagent.agent import entities, resolve, variant_choice

# One order's products: two share no word, so a describing word may stand before a short name.
NAMES = ["Steam Mop", "Floor Lamp", "Blender Jar", "Travel Mug"]


@pytest.mark.parametrize("text,expected", [
    ("I'm sending back my cordless steam, it leaks", {"Steam Mop"}),
    ("the old cracked blender is useless", {"Blender Jar"}),
    ("return the travel mug and my bamboo floor", {"Travel Mug", "Floor Lamp"}),
])
def test_a_short_name_after_describing_words_names_the_product(text: str, expected: set[str]) -> None:
    assert set(entities.named_products(text, NAMES)) == expected


@pytest.mark.parametrize("text", [
    "the floor steam is fine",  # "floor" is a word of the Floor Lamp: no Steam Mop by "steam"
    "my steam floor",  # "steam" is a word of the Steam Mop: no Floor Lamp by "floor"
    "cordless steam",  # no "my"/"the": no noun phrase start
])
def test_describing_words_of_another_product_name_nothing(text: str) -> None:
    named = entities.named_products(text, NAMES)
    assert "Floor Lamp" not in named and "Steam Mop" not in named


def _item(item_id: str, name: str) -> dict[str, Any]:
    return {"item_id": item_id, "name": name, "product_id": "p" + item_id, "price": 10.0, "options": {}}


ORDER = [_item("1", "Travel Mug"), _item("2", "Floor Lamp"), _item("3", "Yoga Mat")]


@pytest.mark.parametrize("text,expected", [
    ("Please send back the lamp and the mug, not the yoga mat", {"1", "2"}),
    ("send back the mug, not the lamp", {"1"}),
    ("I'll keep the lamp but return the yoga mat", {"3"}),
    ("return the yoga mat, keeping the yoga mat's strap", {"3"}),  # named before: still chosen
    ("return everything except the mug", {"2", "3"}),
])
def test_items_left_out_by_not_or_keep_without_all(text: str, expected: set[str]) -> None:
    assert {i["item_id"] for i in resolve.chosen_items(text, ORDER)} == expected


def _variant(item_id: str, price: float, **options: str) -> dict[str, Any]:
    return {"item_id": item_id, "price": price, "available": True, "options": options}


# A telescope: aperture, mount and finish.
SCOPES = [
    _variant("7000000001", 300.0, aperture="70mm", mount="alt-az", finish="white"),
    _variant("7000000002", 420.0, aperture="90mm", mount="alt-az", finish="black"),
    _variant("7000000003", 450.0, aperture="90mm", mount="equatorial", finish="white"),
    _variant("7000000004", 460.0, aperture="90mm", mount="alt-az", finish="white"),
]
SCOPE = {"item_id": "7000000001", "name": "Telescope", "price": 300.0,
         "options": {"aperture": "70mm", "mount": "alt-az", "finish": "white"}}


def test_same_x_and_y_keeps_both_options() -> None:
    choice = variant_choice.choose_variant("the cheapest 90mm one, same mount and finish", SCOPE, SCOPES)
    assert choice is not None and choice["item_id"] == "7000000004"


@pytest.mark.parametrize("text,kinds", [
    ("my camera's SD card slot is broken, exchange it", []),
    ("the graphics card makes noise", []),
    ("the sd-card reader broke", []),
    ("the camera came without a memory card. Card is fine for the refund", ["credit_card"]),
    ("a memory card came with it; refund to my card please", ["credit_card"]),
    ("card", ["credit_card"]),
    ("credit card ending 4321", ["credit_card"]),
    ("put it on my new card", ["credit_card"]),
])
def test_a_product_card_is_no_payment_method(text: str, kinds: list[str]) -> None:
    assert [m.kind for m in entities.find_payment_methods(text)] == kinds


@pytest.mark.parametrize("text,expected", [
    ("Lamp one: warm white please. Lamp two: the dimmable one", ["warm white", "the dimmable one"]),
    ("bottle 1: 750ml, bottle 2: insulated", ["750ml", "insulated"]),
])
def test_labelled_units_get_their_own_wishes(text: str, expected: list[str]) -> None:
    wishes = variant_choice.unit_wishes(text, 2)
    assert wishes is not None and [w for w in expected if any(w in got for got in wishes)] == expected
    assert expected[1] not in wishes[0] and expected[0] not in wishes[1]


def test_a_clock_time_is_no_unit_label() -> None:
    assert variant_choice.unit_wishes("swap them both, deliver 1:30 or 2:15", 2) is None


# A reading lamp: brightness, shade colour and base.
LAMPS = [
    _variant("8000000002", 40.0, brightness="medium", color="green", base="brass"),
    _variant("8000000003", 45.0, brightness="high", color="green", base="steel"),
    _variant("8000000004", 46.0, brightness="high", color="cream", base="brass"),
]
LAMP = {"item_id": "8000000001", "name": "Reading Lamp", "price": 35.0,
        "options": {"brightness": "low", "color": "green", "base": "brass"}}


def test_kept_options_and_an_extreme_that_no_variant_has_are_told_not_swapped() -> None:
    wish = "I want the brightest one, same color and base"
    assert variant_choice.choose_variant(wish, LAMP, LAMPS[1:]) is None  # no brighter green brass lamp
    missing = variant_choice.missing_wishes(wish, LAMP, LAMPS[1:])
    assert missing == ["the same color (green)", "the same base (brass)", "more brightness"]
    assert variant_choice.choose_variant(wish, LAMP, LAMPS)["item_id"] == "8000000002"  # the brightest that keeps them
    assert variant_choice.missing_wishes(wish, LAMP, LAMPS) == []


def test_a_wish_said_again_is_told_once() -> None:
    """The shopper repeats what no variant has, turn after turn: the reply names each wish once."""
    wish = "I want the brightest one, same color and base"
    assert variant_choice.missing_wishes(f"{wish}. {wish}. {wish}", LAMP, LAMPS[1:]) == \
        variant_choice.missing_wishes(wish, LAMP, LAMPS[1:])
