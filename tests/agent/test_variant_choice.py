"""Which owned item, and which new variant: ids, exact requirements, preferences, descriptors."""

from __future__ import annotations

from typing import Any

from shopagent.agent import entities, resolve, variant_choice

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
    chosen = variant_choice.choose_variant("swap it for item 5000000004 please", MINE, JACKETS)
    assert chosen is not None and chosen["item_id"] == "5000000004"
    spoken = "make it item five zero zero zero zero zero zero zero zero three"
    assert variant_choice.choose_variant(spoken, MINE, JACKETS)["item_id"] == "5000000003"
    assert variant_choice.choose_variant("item 5000000006 then", MINE, JACKETS) is None  # sold out: never another one
    mug = {"item_id": "7000000001", "product_id": "7100000000", "name": "Travel Mug", "options": {"size": "large"}}
    order = [MINE, DESK, mug]
    assert [i["name"] for i in resolve.items_mentioned("change 6100000000 to a walnut one", order)] == ["Standing Desk"]
    assert [i["name"] for i in resolve.items_mentioned("item 7000000001 has to go", order)] == ["Travel Mug"]
    assert entities.find_catalog_ids("order #W1234567, zip 10001, item 6000000003") == ["6000000003"]


def test_every_stated_value_must_hold_or_nothing_is_chosen() -> None:
    wish = "the jacket in navy, size L, with the hood"
    assert variant_choice.choose_variant(wish, MINE, JACKETS) is None  # navy L without hood, or olive L: not what was said
    assert variant_choice.missing_wishes(wish, MINE, JACKETS) == ["navy", "L", "yes"]
    chosen = variant_choice.choose_variant("size L, keep the hood", MINE, JACKETS)
    assert chosen is not None and chosen["options"]["size"] == "L" and chosen["options"]["hood"] == "yes"
    assert variant_choice.missing_wishes("size L, keep the hood", MINE, JACKETS) == []
    # the old colour only describes the current jacket when a new one is asked for
    chosen = variant_choice.choose_variant("my navy jacket for an olive one", MINE, JACKETS)
    assert chosen is not None and chosen["item_id"] == "5000000003"


def test_a_fallback_to_leave_the_item_alone() -> None:
    names = ["Rain Jacket", "Standing Desk"]
    assert variant_choice.leaves_alone("navy L with hood; if there's no such jacket, just leave it.", "Rain Jacket", names)
    assert variant_choice.leaves_alone("if you cannot find that, keep the jacket as it is", "Rain Jacket", names)
    assert not variant_choice.leaves_alone("otherwise leave the desk alone", "Rain Jacket", names)  # about the desk
    assert not variant_choice.leaves_alone("size L, and keep the hood", "Rain Jacket", names)  # no condition
    assert not variant_choice.leaves_alone("if possible keep the colour", "Rain Jacket", names)


def test_soft_preferences_rank_after_the_requirements() -> None:
    wide = "160 cm wide; bamboo over oak"
    assert variant_choice.choose_variant(wide, DESK, DESKS)["options"]["top"] == "bamboo"
    assert variant_choice.choose_variant("160 cm, white or silver over black frames", DESK, DESKS)["options"]["frame"] in (
        "white", "silver")
    assert variant_choice.choose_variant("160 cm, walnut if possible", DESK, DESKS)["item_id"] == "6000000002"
    assert variant_choice.choose_variant("160 cm, ideally walnut", DESK, DESKS)["item_id"] == "6000000002"
    # "if that's not available, walnut" keeps walnut a wish, not a value ruled out
    mentions = entities.find_options("160 cm; if that's not available, walnut", DESKS)
    assert [m.negated for m in mentions] == [False, False]
    assert entities.find_options("anything but not the walnut", DESKS)[0].negated


def test_relative_steps_on_ordered_values() -> None:
    chosen = variant_choice.choose_variant("one size bigger, same color and hood", MINE, JACKETS)
    assert chosen is None  # no navy L with a hood is available
    grey = {**MINE, "item_id": "5000000004", "options": {"color": "grey", "size": "L", "hood": "yes"}}
    chosen = variant_choice.choose_variant("a size bigger please", grey, JACKETS)
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
    chosen = variant_choice.choose_variant("navy in size L; hood or not doesn't matter", MINE, JACKETS)
    assert chosen is not None and chosen["item_id"] == "5000000002"
    grey = {**MINE, "item_id": "5000000004", "options": {"color": "grey", "size": "L", "hood": "yes"}}
    # ranked alternatives: the first available one wins, and naming them is no requirement
    assert variant_choice.choose_variant("I'd prefer beige, then olive, then navy", grey, JACKETS)["options"]["color"] == "beige"
    assert variant_choice.choose_variant("size L: I prefer beige, then olive, then navy", grey, JACKETS)["options"]["color"] == "olive"


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


def test_short_forms_name_an_owned_product_only_when_unambiguous() -> None:
    names = ["Hammock Stand", "Raincoat", "Desk Fan"]
    assert entities.named_products("I'd return the hammock and my coat", names) == {"Hammock Stand": 0.5, "Raincoat": 0.5}
    assert entities.named_products("The coat: olive, size L", names) == {"Raincoat": 0.5}
    assert entities.named_products("my coat", ["Raincoat", "Overcoat"]) == {}  # both are coats
    assert entities.named_products("our hammock trip", names) == {}  # the word is not the whole noun phrase
    assert entities.named_products("is a hammock included?", names) == {}  # "a hammock" is no owned one
    assert entities.named_products("swap the desk fan for a quieter one", names) == {"Desk Fan": 1.0}
    # a word of another product ("electric kettle") or an option value ("the ceramic one") names nothing
    assert entities.named_products("the electric kettle", ["Electric Fan", "Kettle"]) == {"Kettle": 1.0}
    assert entities.named_products("swap the mug for the ceramic", ["Ceramic Vase", "Mug"], taken=["ceramic"]) == {"Mug": 1.0}
    stand = {"item_id": "9000000001", "product_id": "9100000000", "name": "Hammock Stand", "options": {"frame": "steel"}}
    coat = {"item_id": "9000000002", "product_id": "9200000000", "name": "Raincoat", "options": {"size": "M"}}
    assert resolve.chosen_items("please take back my hammock", [coat, stand]) == [stand]


def test_an_item_named_to_tell_the_order_is_not_acted_on() -> None:
    stand = {"item_id": "9000000001", "product_id": "9100000000", "name": "Hammock Stand", "options": {"frame": "steel"}}
    coat = {"item_id": "9000000002", "product_id": "9200000000", "name": "Raincoat", "options": {"size": "M"}}
    ids = lambda text: [i["item_id"] for i in resolve.chosen_items(text, [stand, coat])]  # noqa: E731
    assert ids("return the raincoat that came with the hammock stand") == ["9000000002"]
    assert ids("the raincoat from the order with the hammock stand, please") == ["9000000002"]
    assert ids("return the raincoat and the hammock stand") == ["9000000001", "9000000002"]
    assert ids("return the hammock stand I received with my shoes") == ["9000000001"]
    # where the shopper places an item: "the raincoat I just ordered" is no raincoat of a delivered order
    assert ids("swap the raincoat I just ordered and the hammock stand I received") == ["9000000001", "9000000002"]
    placed = resolve.chosen_items("swap the raincoat I just ordered and the hammock stand I received", [stand, coat], status="delivered")
    assert placed == [stand]


def test_the_variant_of_another_owned_item_is_copied() -> None:
    other = {**MINE, "item_id": "5000000003", "options": {"color": "olive", "size": "L", "hood": "yes"}}
    owned = [("delivered", MINE), ("pending", other)]
    same = "swap my rain jacket for the same model as the one in my pending order"
    assert variant_choice.copied_options(same, MINE, owned) == {"color": "olive", "size": "L", "hood": "yes"}
    assert variant_choice.variant_with(variant_choice.copied_options(same, MINE, owned), MINE, JACKETS)["item_id"] == "5000000003"
    # only the options named: "the same colour as my other jacket" keeps the rest as close as it can
    colour = variant_choice.copied_options("make it the same color as my other rain jacket", MINE, owned)
    assert colour == {"color": "olive"} and variant_choice.variant_with(colour, MINE, JACKETS)["item_id"] == "5000000003"
    # the reference must fit: nothing was received besides this one, and "as now" is no other item
    assert variant_choice.copied_options("the same kind as the one I received", MINE, owned) == {}
    assert variant_choice.copied_options("keep the same size as now", MINE, owned) == {}
    grey = {**MINE, "item_id": "5000000006", "options": {"color": "navy", "size": "L", "hood": "yes"}}
    assert variant_choice.variant_with({"color": "navy", "size": "L", "hood": "yes"}, grey, JACKETS) is None  # sold out


def test_each_product_gets_only_the_wishes_said_about_it() -> None:
    text = "Change my rain jacket to an olive one, and the standing desk for a walnut top. Thanks!"
    names = ["Rain Jacket", "Standing Desk"]
    assert "walnut" not in variant_choice.words_about(text, "Rain Jacket", names)
    assert "olive" not in variant_choice.words_about(text, "Standing Desk", names)
    assert variant_choice.choose_variant(variant_choice.words_about(text, "Standing Desk", names), DESK, DESKS)["item_id"] == "6000000002"
    assert variant_choice.words_about("make it olive", "Rain Jacket", names) == "make it olive"  # not named: all the words


def test_an_ambiguous_value_yields_to_one_stated_for_its_option() -> None:
    helmets = [_variant("4000000001", 60.0, size="S", padding="low"), _variant("4000000002", 62.0, size="M", padding="medium"),
               _variant("4000000003", 64.0, size="M", padding="high"), _variant("4000000004", 61.0, size="L", padding="high")]
    mine = {"item_id": "4000000001", "product_id": "4100000000", "name": "Ski Helmet", "price": 60.0,
            "options": {"size": "S", "padding": "low"}}
    # "medium" could be the size or the padding; the padding is said to be high, so it is the size
    assert variant_choice.choose_variant("a medium one with high padding", mine, helmets)["item_id"] == "4000000003"


def test_a_wish_for_the_new_variant_never_picks_the_owned_item() -> None:
    packs = [{"item_id": "3000000001", "product_id": "3100000000", "name": "Day Pack", "options": {"color": "grey", "size": "S"}},
             {"item_id": "3000000002", "product_id": "3100000000", "name": "Day Pack", "options": {"color": "teal", "size": "S"}}]
    assert resolve.unclear_items("Day pack: size L, and grey if there are several colours", packs) == ["Day Pack"]
    assert resolve.unclear_items("change my day pack to a grey one", packs) == ["Day Pack"]
    assert resolve.unclear_items("the day pack, ideally teal", packs) == ["Day Pack"]
    assert [i["item_id"] for i in resolve.items_mentioned("change the grey day pack to teal", packs)] == ["3000000001"]
    # across orders too: the wish tells neither order
    orders = [{"order_id": f"#W000000{n}", "items": [pack]} for n, pack in enumerate(packs)]
    assert len(resolve.orders_meant("my day pack: size L, grey if there are several", orders)[0]) == 2
    assert resolve.orders_meant("the grey day pack", orders)[0] == orders[:1]


def test_a_recent_purchase_is_not_an_open_order() -> None:
    stand = {"item_id": "9000000001", "product_id": "9100000000", "name": "Hammock Stand", "options": {"frame": "steel"}}
    coat = {"item_id": "9000000002", "product_id": "9200000000", "name": "Raincoat", "options": {"size": "M"}}
    # "just bought" says nothing about delivery; and words placing the only named item elsewhere never empty the choice
    assert resolve.chosen_items("return the raincoat I just bought", [stand, coat], status="delivered") == [coat]
    assert resolve.chosen_items("return the raincoat I just ordered", [stand, coat], status="delivered") == [coat]


def test_orders_are_told_apart_by_values_read_across_all_of_them() -> None:
    monitors = [{"item_id": "2000000001", "product_id": "2100000000", "name": "Gaming Monitor", "options": {"size": "27-inch", "refresh": "144Hz"}},
                {"item_id": "2000000002", "product_id": "2100000000", "name": "Gaming Monitor", "options": {"size": "27-inch", "refresh": "240Hz"}}]
    orders = [{"order_id": f"#W100000{n}", "items": [item]} for n, item in enumerate(monitors)]
    # "240Hz" is only a value of the second order's monitor, and the new 32-inch size tells neither
    picked, several = resolve.orders_meant("The 27-inch monitor with 240Hz: change it to a 32-inch one.", orders)
    assert picked == orders[1:] and not several
