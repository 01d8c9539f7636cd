"""Product questions answered from the catalog: code computes every number, the writer only phrases it.

"How many t-shirts do you have?", "what's the cheapest keyboard?", "how much is the blue backpack?",
"what colors does the kettle come in?", "is the helmet available in size L?", "what did I pay for
the speaker I bought?" all reduce to a product reference (:func:`entities.parse_search_filters`
against the live catalog: product name and the option values the question fixes), a question kind
read from the wording (:func:`question_kind`), and a fact computed in SQL over the shop's available
variants (:class:`~shopagent.agent.search.ShopCatalog`), never from the search index. Questions about
the shopper's own purchases are answered from their orders. The result is a template name plus the
verified facts that fill it, so grounding lets exactly these facts through. Search results, whether a
question or a photo found them, are told by :func:`found_products`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from sqlalchemy import select

from shopagent.agent import entities, resolve
from shopagent.agent.store.db import transaction
from shopagent.agent.store.schema import Product, Variant

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

    from shopagent.agent.store.shop import ShopSession
    from shopagent.agent.turn import ProductCard
    from shopagent.retrieval.records import VariantRecord
    from shopagent.retrieval.search import SearchFilters

Kind = Literal["count", "cheapest", "priciest", "price", "values", "has", "options"]

LISTED = 12  # variants named in one answer; the count says how many there are in all
NAMED = 3  # search results named in the reply text (all of them are shown as cards)
# Conditions ("if it's under $200 …, otherwise …") are not part of the question: bounds in them are no filter.
_CONDITION = re.compile(r"\b(?:if|unless|otherwise|in case)\b[^.?!]*", re.I)
# Another request in the same sentence ("… i also need to change my order to purple"), common in
# unpunctuated speech: its option values are not the question's.
_REQUEST = re.compile(r"\b(?:also\s+)?(?:i|we)(?:\s+(?:also\s+)?(?:want|need|would like|d like)|'d\s+(?:also\s+)?like)\b"
                      r"(?!\s+to\s+know)[^.?!]*", re.I)
_KINDS: tuple[tuple[Kind, re.Pattern[str]], ...] = (
    ("count", re.compile(r"\bhow many\b|\bnumber of\b")),
    ("cheapest", re.compile(r"\b(?:cheapest|least expensive|lowest[- ]price[ds]?|most affordable|lowest cost)\b")),
    ("priciest", re.compile(r"\b(?:most expensive|priciest|highest[- ]price[ds]?|top of the line)\b")),
    ("price", re.compile(r"\bhow much\b|\bprices?\b|\bpriced\b|\bcosts?\b")),
)
_YES_NO = re.compile(r"^\s*(?:is|are|does|do|can|could|has|have|got)\b|\b(?:available|in stock|come in|comes in|sell)\b")
_LIST = re.compile(r"\b(?:options?|variants?|versions?|choices|kinds?|types?|models?|configurations?|"
                   r"come in|comes in|tell me (?:more )?about|what (?:do|does) .* have)\b")
_PURCHASED = re.compile(r"\b(?:i|we)\s+(?:have\s+|just\s+|already\s+)?(?:bought|ordered|purchased|received|got|paid|spent)\b"
                        r"|\b(?:have|did)\s+(?:i|we)\s+(?:\w+\s+)?(?:spen[dt]|pa(?:y|id)|buy|bought|order(?:ed)?)\b"  # "how much have I spent"
                        r"|\b(?:my|our)\s+(?:past|previous|earlier|old|other)\s+(?:orders?|purchases?)\b", re.I)
_MINE = re.compile(r"\bmy\s+((?:\S+\s+){0,3}\S+)", re.I)
# Money questions about orders (refunds, savings, totals) are the order flows' to answer, not the catalog's.
_ORDER_MONEY = re.compile(r"\b(?:get back|refund\w*|save|saving|owe|total|difference|balance|charged?)\b", re.I)


@dataclass(frozen=True)
class Answer:
    """A reply template (``agent/prompts/replies.toml``) and the facts that fill it."""

    template: str
    facts: dict[str, str]


def catalog_variants(engine: Engine) -> list[dict[str, Any]]:
    """Every variant with its product's id and name: what product references are parsed against."""
    with transaction(engine) as db:
        rows = db.execute(select(Variant.item_id, Variant.options, Product.name, Product.product_id).join(Product))
        return [{"item_id": i, "options": o, "name": n, "product_id": p} for i, o, n, p in rows]


def question_kind(text: str, asked_keys: Sequence[str], constrained: bool) -> Kind | None:
    """What the question asks; None when it is not a question about a product's variants.

    ``asked_keys`` are option keys the question names without a value ("what colors"); ``constrained``
    says it fixes option values or a price bound ("in red", "under $50"): a yes/no question then asks
    whether such a variant is for sale.
    """
    lowered = entities.spoken_to_digits(text)
    counted = re.search(r"\bhow many\s+(\w+)", lowered)
    if counted and any(entities.tokens(counted.group(1))[:1] == entities.tokens(k)[:1] for k in asked_keys):
        return "values"  # "how many pieces is the puzzle" asks for an option's value, not a count
    for kind, pattern in _KINDS:
        if pattern.search(lowered):
            return kind
    if asked_keys:
        return "values"
    if _YES_NO.search(lowered):
        return "has" if constrained else "options"
    if _LIST.search(lowered):
        return "options"
    return None


def about_purchase(text: str) -> bool:
    """The question is about something the shopper bought ("the speaker I ordered"): it needs sign-in."""
    return _PURCHASED.search(_CONDITION.sub(" ", text)) is not None


@dataclass(frozen=True)
class ProductQuestion:
    """What a question asks about one product: ``filters`` hold the option values and price bounds it
    fixes (``wanted`` says them in words), ``asked`` the option keys it asks about."""

    kind: Kind
    product: str
    filters: SearchFilters
    asked: tuple[str, ...]
    wanted: str


def read_question(text: str, variants: Sequence[Mapping[str, Any]]) -> ProductQuestion | None:
    """The product question in ``text`` against the catalog's ``variants`` (see :func:`catalog_variants`)."""
    question, product = _focus(text, variants)
    if product is None or _ORDER_MONEY.search(question):
        return None
    # The product's own name is no option value ("wool" in "Wool Scarf" does not fix the material).
    name_words = "|".join(re.escape(w) for w in re.findall(r"[^\W_]+", product))
    question = re.sub(rf"\b(?:{name_words})(?:e?s)?\b", " ", question, flags=re.I)
    scope = [v for v in variants if v["name"] == product]
    filters = replace(entities.parse_search_filters(question, scope), category=product, in_stock=True)
    asked = _asked_keys(question, scope, filters.options)
    bounds = {"price from": filters.min_price_cents, "price up to": filters.max_price_cents}
    wanted = ", ".join([f"{k} {v}" for k, v in filters.options.items()]
                       + [f"{name} {_price(cents)}" for name, cents in bounds.items() if cents is not None])
    kind = question_kind(question, asked, bool(wanted))
    return None if kind is None else ProductQuestion(kind, product, filters, tuple(asked), wanted)


def answer_product_question(session: ShopSession, text: str) -> Answer | None:
    """The answer to a product question in ``text``, or None when it names no product or asks
    nothing this module computes (the caller then searches). Purchases come first when the shopper
    says the product is theirs and has signed in."""
    variants = catalog_variants(session.shop.engine)
    if session.user_id is not None and (owned := _owned_items(session, _focus(text, variants)[0])):
        return owned
    question = read_question(text, variants)
    if question is None:
        return None
    from shopagent.agent.search import ShopCatalog  # imports the retrieval package (chromadb)

    catalog = ShopCatalog(session.shop.engine)
    everything = replace(question.filters, options={}, min_price_cents=None, max_price_cents=None)
    available = [v for found in catalog.matching_variants(everything).values() for v in found]
    matching = [v for found in catalog.matching_variants(question.filters).values() for v in found]
    return answer(question, available, matching)


def answer(question: ProductQuestion, available: Sequence[VariantRecord], matching: Sequence[VariantRecord]) -> Answer:
    """The answer from the product's variants for sale: all of them, and those the question fixes."""
    product = question.product
    if not available:
        return Answer("product_unavailable", {"product": product})
    if question.wanted and not matching:
        return Answer("product_has_not", {"product": product, "wanted": question.wanted, "options": _listing(available)})
    pool = matching or available
    if question.kind == "has":
        return Answer("product_has", {"product": product, "wanted": question.wanted, "options": _listing(pool)})
    if question.kind == "count":
        return Answer("product_count", {"product": product, "count": str(len(pool)), "options": _listing(pool)})
    if question.kind in ("cheapest", "priciest"):
        cheapest = question.kind == "cheapest"
        pick = (min if cheapest else max)(pool, key=lambda v: v.price_cents)
        return Answer("product_extreme", {"which": "cheapest" if cheapest else "most expensive", "product": product,
                                          "variant": _label(pick.options), "price": _price(pick.price_cents)})
    if question.kind == "price":
        if len(pool) == 1:
            return Answer("product_price", {"product": product, "variant": _label(pool[0].options),
                                            "price": _price(pool[0].price_cents)})
        low, high = min(v.price_cents for v in pool), max(v.price_cents for v in pool)
        return Answer("product_price_range", {"product": product, "low": _price(low), "high": _price(high),
                                              "options": _listing(pool)})
    if question.kind == "values":
        values = "; ".join(f"{key}: {', '.join(dict.fromkeys(str(v.options[key]) for v in pool if key in v.options))}"
                           for key in question.asked)
        return Answer("product_values", {"product": product, "values": values})
    return Answer("product_details", {"product": product, "options": _listing(pool)})


def found_products(cards: Sequence[ProductCard]) -> Answer:
    """How search results are told, whatever found them (words or a photo): every hit is a card, the
    first few are named in the reply."""
    if not cards:
        return Answer("products_none", {})
    named = "; ".join(f"{c.name} ({c.variant}) at {c.price}" for c in cards[:NAMED])
    return Answer("products_found", {"products": named})


def _asked_keys(text: str, scope: Sequence[Mapping[str, Any]], fixed: Mapping[str, str]) -> list[str]:
    """Option keys the text names without fixing their value ("what colors", "its battery life")."""
    words = entities.tokens(text)
    keys = dict.fromkeys(k for v in scope for k in v["options"])
    return [k for k in keys if k not in fixed and entities.find_phrase(words, entities.tokens(k)) >= 0]


def _focus(text: str, variants: Sequence[Mapping[str, Any]]) -> tuple[str, str | None]:
    """The question's own words (no conditions, no other request still naming the product) and the
    product they name."""
    question = _CONDITION.sub(" ", text)
    product = entities.parse_search_filters(question, variants).category
    if product is not None and entities.parse_search_filters(alone := _REQUEST.sub(" ", question), variants).category == product:
        question = alone
    return question, product


def _owned_items(session: ShopSession, text: str) -> Answer | None:
    """The shopper's purchased items the question names ("the kettle I bought"; "my kettle": the words
    right after "my"), with what they paid and each item's options."""
    assert session.user_id is not None
    text = text if _PURCHASED.search(text) else " ".join(_MINE.findall(text))
    if not text:
        return None
    user = session.get_user_details(session.user_id)
    lines, paid = [], 0
    for order_id in user["orders"]:
        order = session.get_order_details(order_id)
        for item in resolve.items_mentioned(text, order["items"]):
            lines.append(f"{item['name']} ({_label(item['options'])}) at ${item['price']:.2f} in order {order_id} "
                         f"({order['status']})")
            paid += round(item["price"] * 100)
    if len(lines) > 1:  # "what did I pay for the mugs I bought": the sum is part of the answer
        return Answer("owned_items_total", {"items": "; ".join(lines), "total": _price(paid)})
    return Answer("owned_items", {"items": lines[0]}) if lines else None


def _label(options: Mapping[str, Any]) -> str:
    return ", ".join(f"{key} {value}" for key, value in options.items())


def _price(cents: int) -> str:
    return f"${cents / 100:.2f}"


def _listing(variants: Sequence[VariantRecord]) -> str:
    shown = "; ".join(f"{_label(v.options)} at {_price(v.price_cents)}" for v in variants[:LISTED])
    return shown + (f"; and {len(variants) - LISTED} more" if len(variants) > LISTED else "")
