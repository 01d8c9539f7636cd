"""Compose a :class:`ShopAgent` from the configured stages.

The service builds it from its warm components (`prepare.register_warmup`); tools and evaluations
call :func:`build_agent` directly. Product search and policy answers are optional stages: without a
search index the agent still handles every order flow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import select

from shopagent.agent.agents import ShopAgent, Stages
from shopagent.agent.entities import parse_search_filters
from shopagent.agent.intents import IntentClassifier
from shopagent.agent.models import load_chat_model
from shopagent.agent.store.db import transaction
from shopagent.agent.store.demo import prepare_store
from shopagent.agent.store.schema import Product, Variant
from shopagent.agent.store.shop import Shop
from shopagent.agent.turn import ProductCard
from shopagent.agent.writer import ReplyWriter
from shopagent.settings import Settings

POLICY_MIN_SCORE = 0.35  # below this the closest passage does not answer the question


def catalog_variants(shop: Shop) -> list[dict[str, Any]]:
    """Every variant with its product name: what search filters are parsed against."""
    with transaction(shop.engine) as db:
        rows = db.execute(select(Variant.item_id, Variant.options, Product.name).join(Product))
        return [{"item_id": item_id, "options": options, "name": name} for item_id, options, name in rows]


class CatalogSearch:
    """Product search and policy passages for the dialogue, over the retrieval index."""

    def __init__(self, searcher: Any, variants: Sequence[dict[str, Any]]) -> None:
        self.searcher = searcher
        self.variants = list(variants)

    def products(self, text: str, user_id: str | None, k: int = 3) -> list[ProductCard]:
        from shopagent.retrieval.search import SearchQuery

        filters = parse_search_filters(text, self.variants)
        hits = self.searcher.search(SearchQuery(text=text, filters=filters, k=k))
        cards = []
        for hit in hits:
            variant = hit.variants[0]
            matched = ", ".join(f"{k} {v}" for k, v in filters.options.items()) or "your description"
            cards.append(ProductCard(
                product_id=hit.product_id,
                item_id=variant.item_id,
                name=hit.name,
                variant=", ".join(variant.options.values()),
                price=f"${variant.price_cents / 100:.2f}",
                image_url=None,
                reason=f"matches {matched}",
            ))
        return cards

    def policy(self, text: str) -> list[tuple[str, str]]:
        return [(p.title, p.text) for p in self.searcher.passages(text, k=1) if p.score >= POLICY_MIN_SCORE]


def build_agent(
    settings: Settings,
    *,
    shop: Shop | None = None,
    intents: IntentClassifier | None = None,
    chat_model: Any = "load",
    searcher: Any = None,
    recognizer: Any = None,
) -> ShopAgent:
    """The agent over the configured store; pass already-loaded parts to reuse them."""
    shop = shop or prepare_store(settings.database_url)
    intents = intents or IntentClassifier.load_or_train(settings)
    variants = catalog_variants(shop)
    writer = ReplyWriter(
        load_chat_model(settings) if chat_model == "load" else chat_model,
        catalog_names={v["name"] for v in variants},
    )
    stages = Stages(intents=intents, writer=writer)
    if searcher is not None:
        catalog = CatalogSearch(searcher, variants)
        stages.search_products, stages.search_policy = catalog.products, catalog.policy
    if recognizer is not None:
        from shopagent.speech.transcribe import TranscribeOptions, transcribe

        options = TranscribeOptions(vocabulary=tuple(sorted({v["name"] for v in variants}))[:50])
        stages.transcribe = lambda audio: transcribe(audio, settings=settings, options=options, recognizer=recognizer).text
    return ShopAgent(shop, stages, max_message_chars=settings.max_message_chars)
