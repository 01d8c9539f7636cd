"""Spoken ids, digit strings and emails come back in written form; ordinary words stay put."""

from __future__ import annotations

import pytest

from shopagent.speech.normalize import normalize_spoken


@pytest.mark.parametrize(
    ("heard", "written"),
    [
        ("Cancel order w four eight two zero one nine three.", "Cancel order W4820193."),
        ("order W 48 20 193 please", "order W4820193 please"),
        ("the order is W-4-8-2-0-1-9-3", "the order is W4820193"),
        ("order number 4 8 2 0 1 9 3", "order number 4820193"),
        ("my zip code is nine oh two one oh", "my zip code is 90210"),
        ("I need twenty three of them", "I need 23 of them"),
        ("My email is maria dot lopez at shopmail dot com.", "My email is maria.lopez@shopmail.com."),
        ("my email is Maria.Lopez at Shopmail.com", "my email is maria.lopez@shopmail.com"),
        ("it's sam underscore lee at post dot co dot uk", "it's sam_lee@post.co.uk"),
    ],
)
def test_spoken_forms_are_written_out(heard: str, written: str) -> None:
    assert normalize_spoken(heard) == written


@pytest.mark.parametrize(
    "text",
    [
        "Oh, I see. I want this one.",
        "I saw it at the store yesterday.",
        "I looked at amazon dot com first.",  # "at" is a word unless it is clearly an address
        "Can I get two shirts, size 8, 10 or 12?",
        "It costs $12.50 and I paid at 5 pm.",
        "I have a 1234 code",  # "a" and "I" are words, not id prefixes
        "Seat B 12 please.",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    assert normalize_spoken(text) == text
