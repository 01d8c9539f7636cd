"""A change awaiting its yes: questions asked meanwhile are answered and the change keeps waiting, a
new request replaces it (end to end on the real τ² store, templates only; our own customers and words)."""

from .conftest import Say, audit, order

FATIMA = "fatima.wilson5906@example.com"  # delivered #W7990410 (kettle $137.17, headphones, bookshelf), paid with
# PayPal; pending #W1443906 (office chair, grill)


def _changes(shop) -> list[str]:
    return [entry.tool for entry in audit(shop, "change")]


def _kettle_return_awaiting_yes(say: Say) -> str:
    say(f"{FATIMA} here. I'd like to send back the electric kettle from my Los Angeles order, refund to PayPal please")
    preview = say("the order with the kettle")
    if preview.awaiting != "confirmation":
        preview = say("PayPal")
    assert preview.awaiting == "confirmation" and "Kettle" in preview.text
    return preview.text


def test_a_money_question_is_answered_and_the_change_still_waits(say: Say, shop) -> None:
    _kettle_return_awaiting_yes(say)
    asked = say("Wait, how much money would I get back from that?")
    assert "$137.17 back to you" in asked.text
    assert asked.awaiting == "confirmation" and "Kettle" in asked.text  # the same change, asked again
    assert _changes(shop) == []
    assert say("yes").actions[0].name == "return_delivered_order_items"
    assert order(shop, "#W7990410")["status"] == "return requested"


def test_a_policy_or_product_question_keeps_the_pending_change(say: Say, shop) -> None:
    _kettle_return_awaiting_yes(say)
    for question in ("what is your policy on returns?", "Which colors does the electric kettle come in?"):
        reply = say(question)
        assert reply.awaiting == "confirmation", question
        assert reply.text.rstrip().endswith("Please answer yes or no.")
    assert _changes(shop) == []
    say("yes")
    assert _changes(shop) == ["return_delivered_order_items"]


def test_a_new_request_replaces_the_pending_change(say: Say, shop) -> None:
    _kettle_return_awaiting_yes(say)
    reply = say("Please cancel my pending order with the office chair instead.")
    assert "Kettle" not in reply.text and "#W1443906" in reply.text
    say("no longer needed")  # the reason, if asked
    assert _changes(shop) == []
    assert order(shop, "#W7990410")["status"] == "delivered"


def test_a_return_and_an_exchange_of_one_delivered_order_are_compared_before_the_yes(say: Say, shop) -> None:
    say("I'd like to return the headphones, and exchange the bookshelf for the cheapest one. Refund to PayPal.")
    preview = say(FATIMA)
    assert preview.awaiting == "confirmation"
    # only one of the two can be done to order #W7990410: both, with their money, before anything is done
    assert "only once" in preview.text and "#W7990410" in preview.text
    assert "return the Headphones: $353.76 back to you" in preview.text
    assert "exchange the Bookshelf: $4.33 back to you" in preview.text  # $455.34 → $451.01
    assert _changes(shop) == []
    say("yes")
    assert _changes(shop) == ["return_delivered_order_items"]
