import pytest

from shopagent.agent.grounding import fill, placeholders, violations

FACTS = {
    "order_id": "#W2611340",
    "status": "delivered",
    "price_1": "$54.04",
    "total": "$1,249.99",
    "date": "2024-05-14",
    "item_id": "1008292230",
    "product": "Mechanical Keyboard",
}
CATALOG = ["Mechanical Keyboard", "Desk Lamp", "Running Shoes"]


def test_fill_and_placeholders() -> None:
    text = "Order {order_id} is {status}; it cost {price_1}."
    assert placeholders(text) == {"order_id", "status", "price_1"}
    assert fill(text, FACTS) == "Order #W2611340 is delivered; it cost $54.04."
    with pytest.raises(KeyError):
        fill("Refund {refund}", FACTS)


@pytest.mark.parametrize(
    "text",
    [
        "Order #W2611340 was delivered.",
        "Your Mechanical Keyboard cost $54.04, and the total was $1,249.99.",
        "It arrived on 2024-05-14. Item 1008292230 is eligible.",
        "Happy to help! Is there anything else I can do for you?",
        "You can return the keyboard within the return window.",
        "I found one option for you.",
    ],
)
def test_true_negatives(text: str) -> None:
    assert violations(text, FACTS, catalog_names=CATALOG) == []


@pytest.mark.parametrize(
    "text,kind",
    [
        ("That will be $49.99.", "price"),
        ("That will be 49.99 dollars.", "price"),
        ("You'll get 20 bucks back.", "price"),
        ("Order #W1234567 is on its way.", "order id"),
        ("Order w7654321 is fine.", "order id"),
        ("It will arrive on May 17.", "date"),
        ("It will arrive on 17th of May.", "date"),
        ("It will arrive by 05/17/2024.", "date"),
        ("It will arrive tomorrow.", "date"),
        ("It shipped in 3 days.", "number"),
        ("Your order has shipped.", "status"),
        ("The refund is pending.", "status"),
        ("Item 9999999999 is in stock.", "id"),
        ("You might like the Desk Lamp.", "product"),
    ],
)
def test_invented_facts_are_caught(text: str, kind: str) -> None:
    found = violations(text, FACTS, catalog_names=CATALOG)
    assert kind in {v.kind for v in found}, found


def test_shopper_text_may_be_quoted_back() -> None:
    said = "my zip is 94110"
    assert violations("Thanks, I have zip 94110.", FACTS, allowed=[said]) == []
    assert violations("Thanks, I have zip 94111.", FACTS, allowed=[said])
