"""Resolving shopper wording against real τ² records (read in place, never copied)."""

import json
from pathlib import Path

import pytest

from shopagent.agent import addresses, resolve, variant_choice


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
    choice = variant_choice.choose_variant("same keyboard but with clicky switches, or no backlight if needed", keyboard, variants)
    assert choice is not None
    assert choice["options"]["switch type"] == "clicky" and choice["available"]
    assert choice["options"]["size"] == keyboard["options"]["size"]  # unmentioned options are kept
    thermostat = next(i for i in order["items"] if i["name"] == "Smart Thermostat")
    variants = db["products"][thermostat["product_id"]]["variants"].values()
    choice = variant_choice.choose_variant("one compatible with Google Home instead", thermostat, variants)
    assert choice is not None and choice["item_id"] == "7747408585"  # Google Assistant, black: colour kept
    assert variant_choice.choose_variant("a different one please", thermostat, variants) is None


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
    parsed = addresses.parse_address("Please send it to 123 Elm Street, Suite 4, Austin, TX 78701, USA")
    assert parsed == {"address1": "123 Elm Street", "address2": "Suite 4", "city": "Austin", "state": "TX",
                      "zip": "78701", "country": "USA"}
    assert addresses.parse_address("45 Oak Ave, Denver, CO 80202")["address2"] == ""
    assert addresses.parse_address("somewhere in Denver") is None


@pytest.mark.parametrize(
    "text,expected",
    [("new place is 9 Birch Road Apt 2B Salem Oregon 97301", ("9 Birch Road", "Apt 2B", "Salem", "OR", "97301")),
     ("ship to 77 Pine Lane, Boulder, Colorado 80302 please", ("77 Pine Lane", "", "Boulder", "CO", "80302")),
     ("nine oh four harbor boulevard suite twelve san diego california nine two one oh one",
      ("904 Harbor Boulevard", "Suite 12", "San Diego", "CA", "92101")),
     ("order 1656367028 to item 1421289881, figure it out, thanks 12345", None)],
)
def test_addresses_in_free_phrasing(text: str, expected: tuple | None) -> None:
    parsed = addresses.parse_address(text)
    keys = ("address1", "address2", "city", "state", "zip")
    assert (tuple(parsed[k] for k in keys) if parsed else None) == expected
    assert parsed is None or parsed["country"] == "USA"


def test_an_address_named_by_where_it_is_known_from() -> None:
    home = {"address1": "1 Elm St", "address2": "", "city": "Austin", "state": "TX", "zip": "78701", "country": "USA"}
    cabin = {**home, "address1": "5 Lake Rd", "city": "Duluth", "state": "MN", "zip": "55802"}
    office = {**home, "address1": "9 Main St", "city": "New York", "state": "NY", "zip": "10001"}
    known = [("default", home), ("#W1111111 | Canoe | Paddle", cabin), ("#W2222222 | Laptop", office)]
    assert addresses.address_mentioned("use my home address", known, office) == home
    assert addresses.address_mentioned("the address on the canoe order", known, office) == cabin
    assert addresses.address_mentioned("same address as order #W2222222", known, home) == office
    assert addresses.address_mentioned("my NYC place", known, home) == office
    assert addresses.address_mentioned("send it to my home address", known, home) is None  # that is where it goes now
    assert resolve.orders_named("for #W1111111 use the same address as #W2222222") == ["#W1111111"]


def _order(order_id: str, *names: str, price: float = 10.0, city: str = "Austin", state: str = "TX") -> dict:
    items = [{"item_id": f"{order_id}-{i}", "name": n, "options": {}, "price": price + i} for i, n in enumerate(names)]
    return {"order_id": order_id, "items": items, "address": {"city": city, "state": state}}


def test_which_orders_a_request_means() -> None:
    a = _order("#W1", "Canoe", "Paddle", city="Duluth", state="MN")
    b = _order("#W2", "Laptop", "Paddle", price=99.0)
    c = _order("#W3", "Tent")
    meant = lambda text: ([o["order_id"] for o in resolve.orders_meant(text, [a, b, c])[0]],  # noqa: E731
                          resolve.orders_meant(text, [a, b, c])[1])
    assert meant("cancel each of my orders") == (["#W1", "#W2", "#W3"], True)
    assert meant("the laptop and the tent") == (["#W2", "#W3"], True)  # in different orders: both, in turn
    assert meant("the one with the canoe and a paddle") == (["#W1"], False)
    assert meant("the paddle, not the one with the laptop") == (["#W1"], False)
    assert meant("the order shipping to Minnesota") == (["#W1"], False)
    assert meant("return the pricier paddle") == (["#W2"], False)
    assert meant("my newest order") == (["#W3"], False)
    assert meant("a paddle") == (["#W1", "#W2", "#W3"], False)  # can't tell: the dialogue asks
    assert resolve.orders_meant("the kayak", [c], [a, _order("#W4", "Kayak")]) == ([], False)


def test_relative_and_priced_variant_choices(db: dict) -> None:
    def choice(order_id: str, name: str, text: str) -> dict:
        item = next(i for i in db["orders"][order_id]["items"] if i["name"] == name)
        chosen = variant_choice.choose_variant(text, item, db["products"][item["product_id"]]["variants"].values())
        assert chosen is not None and chosen["available"], text
        return {"was": item["options"], "now": chosen["options"], "price": chosen["price"], "id": chosen["item_id"],
                "others": [v for v in db["products"][item["product_id"]]["variants"].values() if v["available"]]}

    lamp = choice("#W6390527", "Desk Lamp", "this lamp is too strong for me, a dimmer one")
    assert variant_choice.ordinal(lamp["now"]["brightness"]) < variant_choice.ordinal(lamp["was"]["brightness"])
    camera = choice("#W4689314", "Digital Camera", "the longest zoom you've got, nothing else different")
    assert camera["now"]["zoom"] == max((v["options"]["zoom"] for v in camera["others"]), key=variant_choice.ordinal)
    cheap = choice("#W9300146", "Desk Lamp", "whatever lamp costs the least, I mean the cheapest")
    assert cheap["price"] == min(v["price"] for v in cheap["others"] if v["item_id"] != "9190635437")
    keep = choice("#W2378156", "Mechanical Keyboard", "the cheapest keyboard but keep the same size")
    assert keep["now"]["size"] == keep["was"]["size"]
    assert keep["price"] == min(v["price"] for v in keep["others"] if v["options"]["size"] == keep["was"]["size"])
    item = next(i for i in db["orders"]["#W2378156"]["items"] if i["name"] == "Mechanical Keyboard")
    variants = db["products"][item["product_id"]]["variants"].values()
    assert variant_choice.choose_variant("the priciest one, same size", item, variants) is None  # it already is
    assert variant_choice.relative_wants("500 fewer pieces please", {"pieces": "1000", "theme": "art"}) == [
        variant_choice.Relative("pieces", -1, False, 500.0)]
    assert variant_choice.price_preference("the more expensive one") == 1 and variant_choice.price_preference("a blue one") == 0


def test_several_requests_in_one_sentence_and_unclear_items() -> None:
    text = "send back the kettle, and swap the lamp for a black one"
    assert "kettle" in resolve.clauses_for("return", text) and "lamp" not in resolve.clauses_for("return", text)
    assert "lamp" in resolve.clauses_for("exchange", text) and "kettle" not in resolve.clauses_for("exchange", text)
    items = [{"item_id": "1", "name": "Vacuum Cleaner", "options": {"type": "robotic"}},
             {"item_id": "2", "name": "Vacuum Cleaner", "options": {"type": "upright"}},
             {"item_id": "3", "name": "Desk Lamp", "options": {}}]
    assert resolve.unclear_items("return a vacuum cleaner and the lamp", items) == ["Vacuum Cleaner"]
    assert resolve.unclear_items("the robotic vacuum cleaner", items) == []
    assert resolve.unclear_items("both vacuum cleaners", items) == []


def test_my_other_card() -> None:
    methods = [{"id": "credit_card_1", "source": "credit_card"}, {"id": "credit_card_2", "source": "credit_card"},
               {"id": "paypal_1", "source": "paypal"}]
    assert resolve.payment_method_mentioned("put it on my other card", methods, "credit_card_1")["id"] == "credit_card_2"


def test_fallbacks_follow_what_the_order_allows() -> None:
    text = "a size 9 please; if you can't do that, return it, or else just cancel the order"
    assert resolve.fallback_request(text, "pending") == ("cancel_order", " just cancel the order")
    assert resolve.fallback_request(text, "delivered")[0] == "return_item"
    assert resolve.fallback_request("a size 9 please, thanks", "pending") is None


def test_strict_choice_never_changes_an_option_nobody_mentioned(db: dict) -> None:
    lamp = next(i for i in db["orders"]["#W6390527"]["items"] if i["name"] == "Desk Lamp")
    variants = db["products"][lamp["product_id"]]["variants"].values()
    loose = variant_choice.choose_variant("a dimmer lamp", lamp, variants)
    changes = {k for k, v in lamp["options"].items() if loose["options"][k] != v}
    strict = variant_choice.choose_variant("a dimmer lamp", lamp, variants, strict=True)
    assert strict is None if changes - {"brightness"} else strict == loose


@pytest.mark.parametrize(
    "text,asks",
    [("I got two lamps but I only need one", False), ("the blender arrived yesterday", False),
     ("please send the blender back", True), ("i dont want the rug anymore", True), ("get me a refund for it", True)],
)
def test_only_words_that_ask_for_a_change_make_an_item_request(text: str, asks: bool) -> None:
    assert resolve.asks_item_change(text) is asks


def test_identical_items_each_get_their_own_wish() -> None:
    text = "swap my two lamps (white, LED): one into a black lamp, the other for a brighter one"
    assert variant_choice.unit_wishes(text, 2) == ["one into a black lamp, ", "the other for a brighter one"]
    spoken = "uh my two mugs first mug red please second one blue and the first one should stay large"
    assert variant_choice.unit_wishes(spoken, 2) is not None and variant_choice.unit_wishes(spoken, 3) is None
    assert variant_choice.unit_wishes("change both lamps to a 2 meter one for the desk", 2) is None  # nothing tells them apart


def test_identical_kettles_get_different_variants(db: dict) -> None:
    kettles = [i for i in db["orders"]["#W7634667"]["items"] if i["name"] == "Tea Kettle"]
    variants = db["products"][kettles[0]["product_id"]]["variants"].values()
    wishes = variant_choice.unit_wishes("for my kettles: the first for gas stoves, and the second in stainless steel", 2)
    assert wishes is not None
    first, second = (variant_choice.choose_variant(w, kettles[0], variants) for w in wishes)
    assert first["options"]["stovetop compatibility"] == "gas" and first["options"]["material"] == "glass"
    assert second["options"]["material"] == "stainless steel"


@pytest.mark.parametrize(
    "text,orders",
    [("change the address of my other orders to 12 Oak St, Austin, TX 78701", True),
     ("please fix my orders' shipping address", True),
     ("update my address to the address on my lamp order", False),
     ("set the default address for all my orders to my home", False)],
)
def test_an_address_change_for_orders_is_told_from_the_accounts(text: str, orders: bool) -> None:
    assert addresses.means_order_address(text) is orders


@pytest.mark.parametrize(
    "text,expected",
    [("change it to a coat, if you can't, return it, or else cancel the order", ("cancel_order", "pending")),
     ("if it cannot be swapped for a coat return it or else cancel the order", ("cancel_order", "pending")),
     ("if it cannot be swapped for a coat return it or else cancel the order", ("return_item", "delivered"))],
)
def test_a_spoken_fallback_is_found_without_commas(text: str, expected: tuple[str, str]) -> None:
    flow, status = expected
    found = resolve.fallback_request(text, status)
    assert found is not None and found[0] == flow
