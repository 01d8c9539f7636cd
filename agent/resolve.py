"""Resolving what the shopper said against their own store records.

Pure functions over τ²-shaped records (orders, products, payment methods as dicts), so the dialogue
can ask "which of *these* items did they mean?" without the store or a model. Reading the words
(product names, options, payment methods, "all items") is :mod:`entities`' job; this module applies
what was read to the shopper's own orders. Each function returns what it could resolve and leaves
the asking to the dialogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from shopagent.agent import entities

Record = Mapping[str, Any]

_YES = re.compile(
    r"^\s*(?:y|yes|yeah|yep|yup|sure|ok|okay|correct|confirm(?:ed)?|go ahead|please do|do it|that'?s right|"
    r"right|absolutely|of course|sounds good|perfect)\b", re.I)
_NO = re.compile(r"^\s*(?:n|no|nope|nah|don'?t|do not|stop|cancel that|never ?mind|wait|hold on|not now)\b", re.I)
_EXCEPT = re.compile(r"\b(?:except(?: for)?|but not|other than|apart from|besides|excluding)\b", re.I)
_LATEST = re.compile(r"\b(?:latest|most recent|last|newest|recent one)\b", re.I)
_EARLIEST = re.compile(r"\b(?:earliest|oldest|first one|first order)\b", re.I)
_SAME_METHOD = re.compile(r"\b(?:original|same (?:card|method|payment)|paid with|used to pay)\b", re.I)


def yes_or_no(text: str) -> bool | None:
    """An explicit yes (True) or no (False); anything else is neither (None)."""
    if _NO.search(text):
        return False
    if _YES.search(text):
        return True
    return None


def items_mentioned(text: str, items: Iterable[Record]) -> list[Record]:
    """Order items the text names; among several of one product, the ones whose options fit best."""
    items = list(items)
    named = entities.named_products(text, [item["name"] for item in items])
    chosen: list[Record] = []
    for name in named:
        same = [item for item in items if item["name"] == name]
        if len(same) > 1 and not entities.mentions_all_items(text):
            ranked = entities.rank_variants(text, same)
            best = ranked[0].score
            if best > named[name]:  # options were named too: keep only the best fits
                keep = {m.item_id for m in ranked if m.score == best}
                same = [item for item in same if item["item_id"] in keep]
        chosen.extend(same)
    return chosen


def chosen_items(text: str, items: list[Record]) -> list[Record]:
    """The items the text selects: named ones, all of them, or all except the named ones."""
    exception = _EXCEPT.search(text)
    if exception and (entities.mentions_all_items(text[: exception.start()]) or re.search(r"\ball\b", text[: exception.start()], re.I)):
        excluded = {item["item_id"] for item in items_mentioned(text[exception.end():], items)}
        return [item for item in items if item["item_id"] not in excluded]
    if entities.mentions_all_items(text):
        return list(items)
    return items_mentioned(text, items)


def pick_by_recency(text: str, candidates: list[Record]) -> Record | None:
    """"the latest one" / "my first order": candidates are in the order they were placed."""
    if _LATEST.search(text):
        return candidates[-1]
    if _EARLIEST.search(text):
        return candidates[0]
    return None


def choose_variant(text: str, current: Record, variants: Iterable[Record]) -> Record | None:
    """The available variant that best fits the options the shopper asked for.

    Only variants that differ from the current item in an option the text names qualify; among equal
    fits, the one keeping most of the current item's other options wins. None when the text names
    no option value the current item lacks.
    """
    candidates = {
        v["item_id"]: {**v, "name": current["name"]}
        for v in variants
        if v.get("available") and v["item_id"] != current["item_id"]
    }
    best: tuple[int, float, int] | None = None
    choice: Record | None = None
    for match in entities.rank_variants(text, list(candidates.values())):
        # The text often names the current options too ("the blue ones for black ones"): what counts
        # first is how many of the *new* values asked for the variant has.
        new_values = sum(current["options"].get(k) != v for k, v in match.matched.items())
        if not new_values:
            continue
        options = candidates[match.item_id]["options"]
        kept = sum(current["options"].get(k) == v for k, v in options.items())
        score = (new_values, match.score, kept)
        if best is None or score > best:
            best, choice = score, candidates[match.item_id]
    return choice


def payment_method_mentioned(text: str, methods: list[Record], original: str | None = None) -> Record | None:
    """The saved payment method the text names ("my visa ending 1234", "PayPal", "the original one")."""
    by_id = {m["id"]: m for m in methods}
    if original in by_id and _SAME_METHOD.search(text):
        return by_id[original]
    for mention in entities.find_payment_methods(text):
        if mention.kind == "original" and original in by_id:
            return by_id[original]
        found = entities.resolve_payment_method(mention, methods)
        if found is not None:
            return by_id[found]
    return None


def original_payment_method(order: Record) -> str | None:
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
