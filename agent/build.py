"""Compose a :class:`ShopAgent` from the configured stages.

The service builds it from its warm components (`prepare.register_warmup`); tools and evaluations
call :func:`build_agent` directly. Product search and policy answers are optional stages: without a
search index the agent still handles every order flow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from shopagent.agent import answers
from shopagent.agent.agents import ShopAgent, Stages
from shopagent.agent.entities import parse_search_filters
from shopagent.agent.intents import IntentClassifier
from shopagent.agent.models import load_chat_model
from shopagent.agent.store.demo import prepare_store
from shopagent.agent.store.shop import Shop
from shopagent.agent.turn import ProductCard
from shopagent.agent.writer import ReplyWriter
from shopagent.settings import Settings

if TYPE_CHECKING:
    from shopagent.speech.transcribe import TranscribeOptions

POLICY_MIN_SCORE = 0.35  # below this the closest passage does not answer the question
ITEM_IMAGE_PATH = "/v1/items/{item_id}/image"  # served by routes/voice.py; cards link to it


def product_card(hit: Any, reason: str) -> ProductCard:
    """A search hit (``retrieval.search.Hit``) as a card showing its best-matching variant."""
    variant = hit.variants[0]
    return ProductCard(
        product_id=hit.product_id,
        item_id=variant.item_id,
        name=hit.name,
        variant=", ".join(variant.options.values()),
        price=f"${variant.price_cents / 100:.2f}",
        image_url=ITEM_IMAGE_PATH.format(item_id=variant.item_id),
        reason=reason,
    )


def transcribe_options(variants: Sequence[dict[str, Any]]) -> TranscribeOptions:
    """Whisper biased to the shop's product names (measured: −7 WER points, speech/README.md)."""
    from shopagent.speech.transcribe import TranscribeOptions

    return TranscribeOptions(vocabulary=tuple(sorted({v["name"] for v in variants}))[:50])


class CatalogSearch:
    """Product search and policy passages for the dialogue, over the retrieval index.

    A signed-in shopper's purchases go with the query, so a personalising re-ranker (when the
    searcher has one) orders the results for them and its reason goes on the card.
    """

    def __init__(self, searcher: Any, variants: Sequence[dict[str, Any]], shop: Shop) -> None:
        self.searcher = searcher
        self.variants = list(variants)
        self.shop = shop

    def products(self, text: str, user_id: str | None, k: int = 3) -> list[ProductCard]:
        filters = parse_search_filters(text, self.variants)
        matched = ", ".join(f"{k} {v}" for k, v in filters.options.items()) or "your description"
        return self._cards(dict(text=text, filters=filters, k=k), user_id, lambda hit: f"matches {matched}")

    def photo(self, image: bytes, user_id: str | None, k: int = 3) -> list[ProductCard]:
        return self._cards(dict(image=image, k=k), user_id,
                           lambda hit: f"looks like your photo (similarity {hit.score:.2f})")

    def _cards(self, query: dict[str, Any], user_id: str | None, reason: Callable[[Any], str]) -> list[ProductCard]:
        from shopagent.agent.search import purchase_history
        from shopagent.retrieval.search import SearchQuery

        history = purchase_history(self.shop.engine, user_id) if user_id else ()
        hits = self.searcher.search(SearchQuery(**query, history=history))
        return [product_card(hit, hit.reason or reason(hit)) for hit in hits]

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
    variants = answers.catalog_variants(shop.engine)
    writer = ReplyWriter(
        load_chat_model(settings) if chat_model == "load" else chat_model,
        catalog_names={v["name"] for v in variants},
    )
    stages = Stages(intents=intents, writer=writer)
    if searcher is not None:
        catalog = CatalogSearch(searcher, variants, shop)
        stages.search_products, stages.search_policy, stages.search_photo = catalog.products, catalog.policy, catalog.photo
    if recognizer is not None:
        from shopagent.speech.transcribe import transcribe

        options = transcribe_options(variants)
        stages.transcribe = lambda audio: transcribe(audio, settings=settings, options=options, recognizer=recognizer).text
    return ShopAgent(shop, stages, max_message_chars=settings.max_message_chars)
