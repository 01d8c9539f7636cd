"""Which owned item, and which new variant: ids, exact requirements, preferences, descriptors."""

from __future__ import annotations

from typing import Any

from shopagent.agent import entities, resolve

from .conftest import Say, order


def _variant(item_id: str, price: float, available: bool = True, **options: str) -> dict[str, Any]:
    return {"item_id": item_id, "price": price, "available": available,
            "options": {k.replace("_", " "): v for k, v in options.items()}}


# A rain jacket sold in colours, sizes and with or without a hood (no navy L with a hood).
JACKETS = [
    _variant("5000000001", 80.0, color="navy", size="M", hood="yes"),
    _variant("5000000002", 82.0, color="navy", size="L", hood="no"),
    _variant("5000000003", 85.0, color="olive", size="L", hood="yes"),
    _variant("5000000004", 79.0, color="grey", size="L", hood="yes"),
    _variant("5000000005", 90.0, color="beige", size="XL", hood="yes"),
    _variant("5000000006", 88.0, False, color="navy", size="L", hood="yes"),
]
MINE = {"item_id": "5000000001", "product_id": "5100000000", "name": "Rain Jacket", "price": 80.0,
        "options": {"color": "navy", "size": "M", "hood": "yes"}}

# A standing desk: width, top material, frame colour.
DESKS = [
    _variant("6000000001", 400.0, width="120 cm", top="oak", frame="black"),
    _variant("6000000002", 420.0, width="160 cm", top="walnut", frame="white"),
    _variant("6000000003", 430.0, width="160 cm", top="bamboo", frame="black"),
    _variant("6000000004", 450.0, width="160 cm", top="oak", frame="silver"),
]
DESK = {"item_id": "6000000001", "product_id": "6100000000", "name": "Standing Desk", "price": 400.0,
        "options": {"width": "120 cm", "top": "oak", "frame": "black"}}


def test_a_catalog_id_said_is_that_variant_or_that_product() -> None:
    chosen = resolve.choose_variant("swap it for item 5000000004 please", MINE, JACKETS)
    assert chosen is not None and chosen["item_id"] == "5000000004"
    spoken = "make it item five zero zero zero zero zero zero zero zero three"
    assert resolve.choose_variant(spoken, MINE, JACKETS)["item_id"] == "5000000003"
    assert resolve.choose_variant("item 5000000006 then", MINE, JACKETS) is None  # sold out: never another one
    mug = {"item_id": "7000000001", "product_id": "7100000000", "name": "Travel Mug", "options": {"size": "large"}}
    order = [MINE, DESK, mug]
    assert [i["name"] for i in resolve.items_mentioned("change 6100000000 to a walnut one", order)] == ["Standing Desk"]
    assert [i["name"] for i in resolve.items_mentioned("item 7000000001 has to go", order)] == ["Travel Mug"]
    assert entities.find_catalog_ids("order #W1234567, zip 10001, item 6000000003") == ["6000000003"]


def test_every_stated_value_must_hold_or_nothing_is_chosen() -> None:
    wish = "the jacket in navy, size L, with the hood"
    assert resolve.choose_variant(wish, MINE, JACKETS) is None  # navy L without hood, or olive L: not what was said
    assert resolve.missing_wishes(wish, MINE, JACKETS) == ["navy", "L", "yes"]
    chosen = resolve.choose_variant("size L, keep the hood", MINE, JACKETS)
    assert chosen is not None and chosen["options"]["size"] == "L" and chosen["options"]["hood"] == "yes"
    assert resolve.missing_wishes("size L, keep the hood", MINE, JACKETS) == []
    # the old colour only describes the current jacket when a new one is asked for
    chosen = resolve.choose_variant("my navy jacket for an olive one", MINE, JACKETS)
    assert chosen is not None and chosen["item_id"] == "5000000003"


def test_a_fallback_to_leave_the_item_alone() -> None:
    names = ["Rain Jacket", "Standing Desk"]
    assert resolve.leaves_alone("navy L with hood; if there's no such jacket, just leave it.", "Rain Jacket", names)
    assert resolve.leaves_alone("if you cannot find that, keep the jacket as it is", "Rain Jacket", names)
    assert not resolve.leaves_alone("otherwise leave the desk alone", "Rain Jacket", names)  # about the desk
    assert not resolve.leaves_alone("size L, and keep the hood", "Rain Jacket", names)  # no condition
    assert not resolve.leaves_alone("if possible keep the colour", "Rain Jacket", names)


def test_soft_preferences_rank_after_the_requirements() -> None:
    wide = "160 cm wide; bamboo over oak"
    assert resolve.choose_variant(wide, DESK, DESKS)["options"]["top"] == "bamboo"
    assert resolve.choose_variant("160 cm, white or silver over black frames", DESK, DESKS)["options"]["frame"] in (
        "white", "silver")
    assert resolve.choose_variant("160 cm, walnut if possible", DESK, DESKS)["item_id"] == "6000000002"
    assert resolve.choose_variant("160 cm, ideally walnut", DESK, DESKS)["item_id"] == "6000000002"
    # "if that's not available, walnut" keeps walnut a wish, not a value ruled out
    mentions = entities.find_options("160 cm; if that's not available, walnut", DESKS)
    assert [m.negated for m in mentions] == [False, False]
    assert entities.find_options("anything but not the walnut", DESKS)[0].negated


def test_relative_steps_on_ordered_values() -> None:
    chosen = resolve.choose_variant("one size bigger, same color and hood", MINE, JACKETS)
    assert chosen is None  # no navy L with a hood is available
    grey = {**MINE, "item_id": "5000000004", "options": {"color": "grey", "size": "L", "hood": "yes"}}
    chosen = resolve.choose_variant("a size bigger please", grey, JACKETS)
    assert chosen is not None and chosen["options"]["size"] == "XL"


def test_owned_items_are_filtered_by_the_values_said_before_their_name() -> None:
    mugs = [{"item_id": "7000000001", "product_id": "7100000000", "name": "Travel Mug", "options": {"size": "large", "color": "red"}},
            {"item_id": "7000000002", "product_id": "7100000000", "name": "Travel Mug", "options": {"size": "small", "color": "red"}},
            {"item_id": "7000000003", "product_id": "7100000000", "name": "Travel Mug", "options": {"size": "small", "color": "teal"}}]
    said = lambda text: [i["item_id"] for i in resolve.items_mentioned(text, mugs)]  # noqa: E731
    assert said("return my small travel mugs") == ["7000000002", "7000000003"]
    assert said("the teal travel mug") == ["7000000003"]
    assert resolve.unclear_items("return my small travel mugs", mugs) == []
    one = mugs[:1]
    assert resolve.items_mentioned("swap my travel mug for a small one", one) == one  # "a small one" is the wish
    # "small" is read as a size only from the variants known beside this order's one large mug
    assert resolve.items_mentioned("change my small travel mug", one, known=mugs) == []
    assert resolve.items_mentioned("change my large travel mug", one, known=mugs) == one


def test_values_said_not_to_matter_and_ranked_alternatives() -> None:
    # "with or without a hood, doesn't matter": the hood is no requirement, so a hoodless navy L will do
    chosen = resolve.choose_variant("navy in size L; hood or not doesn't matter", MINE, JACKETS)
    assert chosen is not None and chosen["item_id"] == "5000000002"
    grey = {**MINE, "item_id": "5000000004", "options": {"color": "grey", "size": "L", "hood": "yes"}}
    # ranked alternatives: the first available one wins, and naming them is no requirement
    assert resolve.choose_variant("I'd prefer beige, then olive, then navy", grey, JACKETS)["options"]["color"] == "beige"
    assert resolve.choose_variant("size L: I prefer beige, then olive, then navy", grey, JACKETS)["options"]["color"] == "olive"


def test_a_plain_reference_or_a_wish_never_filters_the_owned_items() -> None:
    mug = [{"item_id": "7000000001", "product_id": "7100000000", "name": "Travel Mug", "options": {"size": "large"}}]
    known = [*mug, {"item_id": "7000000009", "product_id": "7100000000", "name": "Travel Mug", "options": {"size": "small"}}]
    assert resolve.items_mentioned("swap the travel mug I got for the small travel mug", mug, known) == mug
    assert resolve.items_mentioned("my travel mug, the small travel mug if you can", mug, known) == mug


# τ² store: Yusuf Rossi's delivered #W2378156 holds a linear RGB full-size keyboard and an Apple HomeKit
# thermostat; the catalog has tactile keyboards only in white full size or RGB 60%.
YUSUF = "Yusuf Rossi, zip 19122"


def test_a_missing_combination_is_told_not_substituted(say: Say, shop) -> None:
    say(f"{YUSUF}. In order #W2378156 please swap the mechanical keyboard for a tactile RGB one in full size")
    reply = say("a tactile RGB one in full size, like I said")
    assert reply.awaiting == "items" and "no available Mechanical Keyboard" in reply.text
    assert "with tactile, RGB, full size" in reply.text
    assert order(shop, "#W2378156")["status"] == "delivered"  # nothing was changed


def test_leave_it_alone_drops_only_that_item(say: Say, shop) -> None:
    say(f"{YUSUF}. I want to exchange the keyboard from #W2378156 for a tactile RGB full size one; if there's no "
        "such keyboard just leave it as it is. And swap the thermostat for one that works with Google Home instead.")
    reply = say("the original card")
    assert reply.awaiting == "confirmation" and "Smart Thermostat" in reply.text
    say("yes")
    assert order(shop, "#W2378156")["exchange_items"] == ["4983901480"]  # the thermostat alone


def test_owned_items_told_apart_by_price_or_a_negated_value() -> None:
    lamps = [{"item_id": "8000000001", "product_id": "8100000000", "name": "Floor Lamp", "price": 120.0, "options": {"finish": "brass"}},
             {"item_id": "8000000002", "product_id": "8100000000", "name": "Floor Lamp", "price": 95.0, "options": {"finish": "matte black"}}]
    said = lambda text: [i["item_id"] for i in resolve.items_mentioned(text, lamps)]  # noqa: E731
    assert said("send back the pricier floor lamp") == ["8000000001"]
    assert said("I'll return my cheaper floor lamp") == ["8000000002"]
    assert said("the floor lamp that isn't brass") == ["8000000002"]
    assert resolve.unclear_items("send back the pricier floor lamp", lamps) == []
    assert resolve.unclear_items("swap my floor lamp for the cheapest one", lamps) == ["Floor Lamp"]  # a wish
