"""Resolving what the shopper said against their own store records.

Pure functions over τ²-shaped records (orders, products, payment methods as dicts), so the dialogue
can ask "which of *these* items did they mean?" without the store or a model. Each returns what it
could resolve and leaves the asking to the dialogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

_WORD = re.compile(r"[a-z0-9%$]+(?:\.\d+)?")
_YES = re.compile(
    r"^\s*(?:y|yes|yeah|yep|yup|sure|ok|okay|correct|confirm(?:ed)?|go ahead|please do|do it|that'?s right|"
    r"right|absolutely|of course|sounds good|perfect)\b", re.I)
_NO = re.compile(r"^\s*(?:n|no|nope|nah|don'?t|do not|stop|cancel that|never ?mind|wait|hold on|not now)\b", re.I)
_ALL = re.compile(r"\b(?:all|every|everything|each|both|whole order|entire order)\b", re.I)
_EXCEPT = re.compile(r"\b(?:except(?: for)?|but not|other than|apart from|besides|excluding)\b", re.I)
_LATEST = re.compile(r"\b(?:latest|most recent|last|newest|recent one)\b", re.I)
_EARLIEST = re.compile(r"\b(?:earliest|oldest|first one|first order)\b", re.I)


def tokens(text: str) -> list[str]:
    """Lower-case word tokens, hyphens joined ("T-Shirt" → "tshirt"), plurals folded."""
    words = _WORD.findall(text.lower().replace("-", "").replace("'", ""))
    return [_singular(w) for w in words]


def _singular(word: str) -> str:
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("es") and word[-3] in "sxz":
        return word[:-2]
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


def _contains(haystack: list[str], needle: list[str]) -> bool:
    n = len(needle)
    return n > 0 and any(haystack[i : i + n] == needle for i in range(len(haystack) - n + 1))


def yes_or_no(text: str) -> bool | None:
    """An explicit yes (True) or no (False); anything else is neither (None)."""
    if _NO.search(text):
        return False
    if _YES.search(text):
        return True
    return None


def wants_all(text: str) -> bool:
    return bool(_ALL.search(text))


def chosen_items(text: str, items: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """The items the text selects: named ones, all of them, or all except the named ones."""
    exception = _EXCEPT.search(text)
    if exception and wants_all(text[: exception.start()]):
        excluded = {id(item) for item in items_mentioned(text[exception.end():], items)}
        return [item for item in items if id(item) not in excluded]
    if wants_all(text):
        return list(items)
    return items_mentioned(text, items)


def pick_by_recency(text: str, candidates: list[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """"the latest one" / "my first order": candidates are in the order they were placed."""
    if _LATEST.search(text):
        return candidates[-1]
    if _EARLIEST.search(text):
        return candidates[0]
    return None


def product_mentioned(text: str, product_name: str) -> bool:
    """The name, or its head noun ("keyboard" for "Mechanical Keyboard"), appears in the text."""
    said, name = tokens(text), tokens(product_name)
    return _contains(said, name) or (bool(name) and name[-1] in said)


def items_mentioned(text: str, items: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    """Order items the text refers to by product name, narrowed by options when several match."""
    items = list(items)
    named = [item for item in items if product_mentioned(text, item["name"])]
    chosen: list[Mapping[str, Any]] = []
    for name in dict.fromkeys(item["name"] for item in named):
        same = [item for item in named if item["name"] == name]
        if len(same) > 1:
            scored = [(option_matches(text, item["options"]), item) for item in same]
            best = max(score for score, _ in scored)
            if best > 0 and not wants_all(text):
                same = [item for score, item in scored if score == best]
        chosen.extend(same)
    return chosen


def option_value_score(text_tokens: list[str], option: str, value: Any) -> float:
    """1 when the value is named in full ("full size"), 0.5 for part of a longer value ("google" for
    "Google Assistant"), 0 otherwise. "none" counts when the text says "no <option>"/"without <option>"."""
    value_tokens = tokens(str(value))
    if str(value).lower() == "none":
        name = tokens(option)
        return float(any(_contains(text_tokens, [w, *name[-1:]]) for w in ("no", "without")))
    if _contains(text_tokens, value_tokens):
        return 1.0
    if len(value_tokens) > 1 and any(t in text_tokens for t in value_tokens if len(t) > 2 and t not in _GENERIC):
        return 0.5
    return 0.0


_GENERIC = frozenset({"size", "color", "type", "with", "and", "the", "inch", "pack"})


def option_matches(text: str, options: Mapping[str, Any]) -> float:
    said = tokens(text)
    return sum(option_value_score(said, k, v) for k, v in options.items())


def choose_variant(
    text: str, current: Mapping[str, Any], variants: Iterable[Mapping[str, Any]]
) -> Mapping[str, Any] | None:
    """The available variant that best matches the options the shopper asked for.

    Asked-for option values win; among equals, the one that keeps most of the current item's other
    options. Returns None when the text names no option value that differs from the current item.
    """
    said = tokens(text)
    current_options = current["options"]
    best: tuple[float, int] | None = None
    choice: Mapping[str, Any] | None = None
    for variant in variants:
        if not variant.get("available", False) or variant["item_id"] == current["item_id"]:
            continue
        options = variant["options"]
        asked = sum(option_value_score(said, k, v) for k, v in options.items() if current_options.get(k) != v)
        if asked == 0:
            continue
        kept = sum(current_options.get(k) == v for k, v in options.items())
        score = (asked, kept)
        if best is None or score > best:
            best, choice = score, variant
    return choice


def payment_method_mentioned(text: str, methods: Iterable[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The payment method the text names: by last four digits, brand, or kind (gift card, PayPal, card)."""
    lowered = text.lower()
    said = tokens(text)
    methods = list(methods)
    for method in methods:
        last_four = method.get("last_four")
        if last_four and re.search(rf"\b{last_four}\b", lowered):
            return method
    kinds = {
        "gift_card": ("gift card", "giftcard", "gift"),
        "paypal": ("paypal", "pay pal"),
        "credit_card": ("credit card", "card", "visa", "mastercard", "amex", "american express", "discover"),
    }
    for source, words in kinds.items():
        if any(re.search(rf"\b{w}\b", lowered) for w in words):
            matching = [m for m in methods if m.get("source") == source]
            brand = [m for m in matching if m.get("brand") and tokens(m["brand"])[0] in said]
            if len(brand) == 1:
                return brand[0]
            if len(matching) == 1:
                return matching[0]
    return None


def original_payment_method(order: Mapping[str, Any]) -> str | None:
    payments = [p for p in order.get("payment_history", []) if p.get("transaction_type") == "payment"]
    return payments[0]["payment_method_id"] if payments else None


def cancel_reason(text: str) -> str | None:
    """Map free text to the store's two cancellation reasons."""
    lowered = text.lower()
    if re.search(r"mistake|by accident|accidental|wrong (?:item|order|size|color)|didn'?t mean", lowered):
        return "ordered by mistake"
    if re.search(r"no longer|don'?t need|do not need|not needed|changed my mind|don'?t want|found .* cheaper", lowered):
        return "no longer needed"
    return None


_ADDRESS = re.compile(
    r"(?<![#\w])(?P<address1>\d+\s+[a-z][\w .'-]*?)\s*,\s*(?:(?P<address2>(?:apt|apartment|suite|unit|ste|#|floor|fl)\.?\s*[\w-]+)\s*,\s*)?"
    r"(?P<city>[a-z][\w .'-]*?)\s*,\s*(?P<state>[a-z]{2}|[a-z][a-z ]+?)\s*,?\s*(?P<zip>\d{5})(?:-\d{4})?"
    r"(?:\s*,\s*(?P<country>[a-z][\w .]*))?",
    re.I,
)


def parse_address(text: str) -> dict[str, str] | None:
    """A full postal address ("12 Oak St, Apt 4, Austin, TX 78701[, USA]") or None."""
    match = _ADDRESS.search(text)
    if not match:
        return None
    parts = {k: (v or "").strip(" .") for k, v in match.groupdict().items()}
    parts["country"] = parts["country"] or "USA"
    return parts
