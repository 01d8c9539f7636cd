"""Entity extraction across typed and spoken forms, including what must *not* be extracted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from shopagent.agent.entities import (
    PaymentMention,
    PersonName,
    extract_entities,
    find_emails,
    find_name,
    find_options,
    find_order_ids,
    find_payment_methods,
    find_price_bounds,
    find_quantity,
    find_zip,
    mentions_all_items,
    parse_search_filters,
    rank_variants,
    resolve_payment_method,
    spoken_to_digits,
)


@pytest.mark.parametrize(
    ("said", "digits"),
    [
        ("order w two six one one three four zero", "order w 2611340"),
        ("zip nineteen one twenty two", "zip 19122"),
        ("oh five four one two", "05412"),
        ("oh sorry, my mistake", "oh sorry, my mistake"),  # "oh" is zero only beside digits
        ("less than a hundred bucks", "less than 100 bucks"),
        ("a two-piece set, twenty-two dollars", "a 2 piece set, $22"),
        ("size nine, please.", "size 9, please."),
        ("$1,150.50 in size 1", "$1,150.50 in size 1"),  # digits stay digits
        ("the grey ones in size ten", "the grey ones in size 10"),  # "ones" is a pronoun, not "1s"
    ],
)
def test_spoken_numbers_become_digits(said: str, digits: str) -> None:
    assert spoken_to_digits(said) == digits


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("#W2611340", ["#W2611340"]),
        ("it's w2611340", ["#W2611340"]),
        ("order number w two six one one three four zero", ["#W2611340"]),
        ("W 261 1340 please", ["#W2611340"]),
        ("order 3318470", ["#W3318470"]),
        ("w2611340 19122", ["#W2611340"]),  # a zip after the id is not part of it
        ("#W1234567 and w seven six five four three two one", ["#W1234567", "#W7654321"]),
        ("my order from last week", []),
        ("W261134", []),  # six digits
        ("exchange it w the black band", []),
        ("call 5551234567", []),
    ],
)
def test_order_ids(text: str, ids: list[str]) -> None:
    assert find_order_ids(text) == ids


@pytest.mark.parametrize(
    ("text", "emails"),
    [
        ("Email: Noah.Brown7922@example.com.", ["noah.brown7922@example.com"]),
        ("john dot smith at example dot com", ["john.smith@example.com"]),
        ("it's noah dot brown seven nine two two at example dot com", ["noah.brown7922@example.com"]),
        ("mei underscore kovacs at mail dot co dot uk", ["mei_kovacs@mail.co.uk"]),
        ("look at this", []),
        ("I'm at home right now", []),
    ],
)
def test_emails(text: str, emails: list[str]) -> None:
    assert find_emails(text) == emails


@pytest.mark.parametrize(
    ("text", "name", "zip_code"),
    [
        ("I'm Yusuf Rossi, zip 19122.", PersonName("Yusuf", "Rossi"), "19122"),
        ("my name is yusuf rossi and my zip code is one nine one two two", PersonName("Yusuf", "Rossi"), "19122"),
        ("Yusuf Rossi 19122", PersonName("Yusuf", "Rossi"), "19122"),
        ("mei kovacs, two eight two three six", PersonName("Mei", "Kovacs"), "28236"),
        ("It's Mei Kovacs from 28236", PersonName("Mei", "Kovacs"), "28236"),
        ("Hi! My name is Ana.", PersonName("Ana"), None),
        ("im looking for shoes", None, None),
        ("I'm really upset", None, None),
        ("its broken", None, None),
        ("I am calling about order #W2611340", None, None),
        ("cancel order", None, None),
        ("I need 20000 mah", None, None),
        ("under $10000", None, None),
        ("no more than 50000 dollars", None, None),
    ],
)
def test_names_and_zip_codes(text: str, name: PersonName | None, zip_code: str | None) -> None:
    assert find_name(text) == name
    assert find_zip(text) == zip_code


def test_a_bare_name_needs_a_zip_or_a_question() -> None:
    assert find_name("sofia li") is None
    assert find_name("sofia li", asked=True) == PersonName("Sofia", "Li")


@pytest.mark.parametrize(
    ("text", "mentions"),
    [
        ("my visa ending 1234", [PaymentMention("credit_card", "visa", "1234")]),
        ("the mastercard ending in four four one two", [PaymentMention("credit_card", "mastercard", "4412")]),
        ("refund it to my visa card", [PaymentMention("credit_card", "visa")]),
        ("paypal please", [PaymentMention("paypal")]),
        ("put it on the gift card", [PaymentMention("gift_card")]),
        ("the original payment method", [PaymentMention("original")]),
        ("the same card I paid with", [PaymentMention("original")]),
        ("the one ending in 9212", [PaymentMention("credit_card", None, "9212")]),
        ("gift card first, then my credit card", [PaymentMention("gift_card"), PaymentMention("credit_card")]),
        ("I want a red shirt", []),
    ],
)
def test_payment_methods(text: str, mentions: list[PaymentMention]) -> None:
    assert find_payment_methods(text) == mentions


def test_payment_mentions_resolve_only_when_unambiguous() -> None:
    methods = [
        {"id": "credit_card_1", "source": "credit_card", "brand": "visa", "last_four": "1234"},
        {"id": "credit_card_2", "source": "credit_card", "brand": "mastercard", "last_four": "9212"},
        {"id": "paypal_3", "source": "paypal"},
        {"id": "gift_card_4", "source": "gift_card", "balance": 50},
    ]
    assert resolve_payment_method(PaymentMention("credit_card", "visa"), methods) == "credit_card_1"
    assert resolve_payment_method(PaymentMention("credit_card", None, "9212"), methods) == "credit_card_2"
    assert resolve_payment_method(PaymentMention("gift_card"), methods) == "gift_card_4"
    assert resolve_payment_method(PaymentMention("credit_card"), methods) is None  # which card?
    assert resolve_payment_method(PaymentMention("credit_card", "amex"), methods) is None
    assert resolve_payment_method(PaymentMention("original"), methods) is None


@pytest.mark.parametrize(
    ("text", "bounds"),
    [
        ("under $100", (None, 100.0)),
        ("less than a hundred bucks", (None, 100.0)),
        ("between 50 and 80 dollars", (50.0, 80.0)),
        ("between fifty and eighty dollars", (50.0, 80.0)),
        ("$50-$80", (50.0, 80.0)),
        ("over $50", (50.0, None)),
        ("100 dollars or less", (None, 100.0)),
        ("cheaper than $1,150.50", (None, 1150.5)),
        ("under 100 in red", (None, 100.0)),
        ("at least 128gb and under 300", (None, 300.0)),
        ("size 8 to 10", (None, None)),
        ("more than fifteen hundred pieces", (None, None)),
        ("it arrived in less than 2 weeks", (None, None)),
        ("less than 3 items", (None, None)),
        ("order #W1234567", (None, None)),
    ],
)
def test_price_bounds(text: str, bounds: tuple[float | None, float | None]) -> None:
    assert find_price_bounds(text) == bounds


@pytest.mark.parametrize(
    ("text", "quantity"),
    [
        ("i want two of them", 2),
        ("3 t-shirts please", 3),
        ("both of the lamps", 2),
        ("return one of the shirts", 1),
        ("return 3 items", 3),
        ("size 10 shoes", None),
        ("order w1234567", None),
        ("it came 2 days ago", None),
        ("under $30", None),
    ],
)
def test_quantities(text: str, quantity: int | None) -> None:
    assert find_quantity(text) == quantity


@pytest.mark.parametrize(
    ("text", "everything"),
    [("return all items", True), ("everything except the coffee machine", True), ("the whole order", True),
     ("all of them please", True), ("just one item", False), ("the blue one", False)],
)
def test_all_items(text: str, everything: bool) -> None:
    assert mentions_all_items(text) is everything


def test_extract_entities_reads_a_spoken_turn() -> None:
    found = extract_entities(
        "hi i'm yusuf rossi zip one nine one two two, order w two three seven eight one five six, "
        "refund both to my visa ending in four four one two"
    )
    assert (found.first_name, found.last_name, found.zip) == ("Yusuf", "Rossi", "19122")
    assert found.order_ids == ["#W2378156"]
    assert found.payment_methods == [PaymentMention("credit_card", "visa", "4412")]
    assert found.quantity == 2 and found.email is None


# --- catalog-dependent ---------------------------------------------------------------------


def _variants(name: str, rows: list[tuple[str, dict[str, str]]]) -> list[dict]:
    return [{"item_id": item_id, "name": name, "options": options} for item_id, options in rows]


SHIRTS = _variants("T-Shirt", [
    ("s-blue-m", {"color": "blue", "size": "M", "style": "crew neck"}),
    ("s-blue-l", {"color": "blue", "size": "L", "style": "crew neck"}),
    ("s-red-m", {"color": "red", "size": "M", "style": "v-neck"}),
    ("s-rose", {"color": "rose gold", "size": "M", "style": "v-neck"}),
])
KEYBOARDS = _variants("Mechanical Keyboard", [
    ("k-clicky-rgb-full", {"switch type": "clicky", "backlight": "RGB", "size": "full size"}),
    ("k-clicky-none-full", {"switch type": "clicky", "backlight": "none", "size": "full size"}),
    ("k-linear-rgb-60", {"switch type": "linear", "backlight": "RGB", "size": "60%"}),
    ("k-tactile-white-80", {"switch type": "tactile", "backlight": "white", "size": "80%"}),
])
THERMOSTATS = _variants("Smart Thermostat", [
    ("t-apple", {"compatibility": "Apple HomeKit", "color": "white"}),
    ("t-google", {"compatibility": "Google Assistant", "color": "white"}),
    ("t-alexa", {"compatibility": "Amazon Alexa", "color": "white"}),
])
BOOTS = _variants("Hiking Boots", [
    ("b-9-leather-dry", {"size": "9", "material": "leather", "waterproof": "yes"}),
    ("b-9-synthetic-wet", {"size": "9", "material": "synthetic", "waterproof": "no"}),
    ("b-10-leather-dry", {"size": "10", "material": "leather", "waterproof": "yes"}),
])
LAPTOPS = _variants("Laptop", [
    ("l-256", {"storage": "256GB SSD", "ram": "8GB", "screen size": "13-inch"}),
    ("l-1tb", {"storage": "1TB SSD", "ram": "32GB", "screen size": "15-inch"}),
])
CATALOG = SHIRTS + KEYBOARDS + THERMOSTATS + BOOTS + LAPTOPS


@pytest.mark.parametrize(
    ("text", "variants", "best"),
    [
        ("the blue one in size M", SHIRTS, "s-blue-m"),
        ("a large blue shirt", SHIRTS, "s-blue-l"),
        ("rose gold please", SHIRTS, "s-rose"),  # not "gold" on its own
        ("clicky switches", KEYBOARDS, "k-clicky-rgb-full"),  # ties keep catalog order
        ("clicky, no backlight", KEYBOARDS, "k-clicky-none-full"),
        ("linear switches in 60 percent", KEYBOARDS, "k-linear-rgb-60"),
        ("one for Google Home instead of Apple HomeKit", THERMOSTATS, "t-google"),
        ("size nine, not waterproof", BOOTS, "b-9-synthetic-wet"),
        ("leather, size 10", BOOTS, "b-10-leather-dry"),
        ("the one with the 1 tb drive", LAPTOPS, "l-1tb"),
        ("the keyboard", CATALOG, "k-clicky-rgb-full"),
    ],
)
def test_rank_variants(text: str, variants: list[dict], best: str) -> None:
    assert rank_variants(text, variants)[0].item_id == best


def test_rank_variants_penalises_what_was_ruled_out() -> None:
    ranked = {m.item_id: m.score for m in rank_variants("not the Apple HomeKit one", THERMOSTATS)}
    assert ranked["t-apple"] < ranked["t-google"] == ranked["t-alexa"]


def test_numbers_without_their_unit_name_no_option() -> None:
    assert find_options("I want 2 of them", BOOTS + LAPTOPS) == []
    assert find_options("it has 8 gb of ram", LAPTOPS)[0].values == {"ram": "8GB"}


@pytest.mark.parametrize(
    ("text", "category", "options", "low", "high", "in_stock"),
    [
        ("red t-shirts in size M under $30 in stock", "T-Shirt", {"color": "red", "size": "M"}, None, 3000, True),
        ("mechanical keyboards with clicky switches and no backlight", "Mechanical Keyboard",
         {"switch type": "clicky", "backlight": "none"}, None, None, False),
        ("a thermostat that works with google home", "Smart Thermostat",
         {"compatibility": "Google Assistant"}, None, None, False),
        ("laptops between five hundred and a thousand dollars", "Laptop", {}, 50000, 100000, False),
        ("anything blue", None, {"color": "blue"}, None, None, False),
    ],
)
def test_search_filters_against_a_catalog(
    text: str, category: str | None, options: dict, low: int | None, high: int | None, in_stock: bool
) -> None:
    filters = parse_search_filters(text, CATALOG)
    assert filters.category == category
    assert dict(filters.options) == options
    assert (filters.min_price_cents, filters.max_price_cents, filters.in_stock) == (low, high, in_stock)


def test_search_filters_without_a_catalog() -> None:
    filters = parse_search_filters("show me something in red, size m, under 40 bucks")
    assert filters.category is None
    assert dict(filters.options) == {"color": "red", "size": "M"}
    assert filters.max_price_cents == 4000


def test_search_filters_on_the_tau2_catalog(tau2_dir: Path) -> None:
    products = json.loads((tau2_dir / "db.json").read_text())["products"]
    variants = [{"item_id": i, "name": p["name"], "options": v["options"]}
                for p in products.values() for i, v in p["variants"].items()]
    filters = parse_search_filters("a two-piece black luggage set, in stock, under two hundred dollars", variants)
    assert filters.category == "Luggage Set"
    assert dict(filters.options) == {"piece count": "2-piece", "color": "black"}
    assert (filters.max_price_cents, filters.in_stock) == (20000, True)
    filters = parse_search_filters("black sunglasses with polarized lenses", variants)
    assert dict(filters.options) == {"frame color": "black", "lens type": "polarized"}


@pytest.mark.parametrize(
    "text",
    ["Ana Ruiz, zip 10001. I lost the password to my email, sorry.",
     "ana ruiz zip code one zero zero zero one i never got an email from you",
     "It's Ana Ruiz in 10001 and I can't find my email",
     "uh right ana ruiz zip one zero zero zero one"],
)
def test_the_name_just_before_the_zip_counts_whatever_follows(text: str) -> None:
    assert find_name(text) == PersonName("Ana", "Ruiz")
