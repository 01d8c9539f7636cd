"""A Chroma server that is unreachable at start-up, then starts, then dies, then returns: product
requests get the apology while it is away, order flows keep working, and search recovers by itself.

The searcher is the one the service's warm-up registers (`agent.prepare`), on a real `chroma run`.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from prometheus_client import REGISTRY

from shopagent.agent.agents import ShopAgent
from shopagent.agent.build import build_agent
from shopagent.agent.dialogue import templates
from shopagent.agent.intents import IntentClassifier
from shopagent.agent.prepare import register_warmup
from shopagent.agent.runtime import Runtime
from shopagent.agent.store.shop import Shop
from shopagent.agent.turn import TurnInput, TurnResult
from shopagent.settings import Settings
from retrieval.conftest import ChromaServer, _free_port

EMAIL = "emma.brown5032@example.com"
APOLOGY = templates()["search_unavailable"]["text"]
PRODUCT_REQUEST = "can you recommend something to keep my drinks cold?"


def _unavailable() -> float:
    return REGISTRY.get_sample_value("shopagent_search_unavailable_total") or 0.0


def _until_cards(agent: ShopAgent, conversation: str, timeout: float = 60) -> TurnResult:
    deadline = time.monotonic() + timeout
    while True:
        reply = agent.handle(TurnInput(conversation, text=PRODUCT_REQUEST))
        if reply.cards or time.monotonic() > deadline:
            return reply
        time.sleep(0.5)


@pytest.mark.slow
def test_search_degrades_and_recovers(
    shop: Shop, intents: IntentClassifier, agent_settings: Settings, tmp_path: Path
) -> None:
    server = ChromaServer(tmp_path / "chroma", _free_port())
    settings = agent_settings.model_copy(update={
        "data_dir": tmp_path / "data", "store_url": str(shop.engine.url), "chroma_url": server.url})
    runtime = Runtime(settings)
    register_warmup(runtime)
    searcher = next(step for step in runtime.steps if step.name == "search").load()  # server not started yet
    agent = build_agent(settings, shop=shop, intents=intents, chat_model=None, searcher=searcher)
    say = lambda text: agent.handle(TurnInput("chroma-down", text=text))  # noqa: E731
    counted = _unavailable()

    down = say(PRODUCT_REQUEST)
    assert (down.text, down.cards, down.awaiting) == (APOLOGY, [], "none")
    assert _unavailable() > counted
    status = say(f"where is my order #W6460787? my email is {EMAIL}")  # order flows need no index
    assert "#W6460787" in status.text and "pending" in status.text

    server.start()
    try:
        assert _until_cards(agent, "chroma-up").cards  # reconnected without a restart
        server.stop()
        assert agent.handle(TurnInput("chroma-gone", text=PRODUCT_REQUEST)).text == APOLOGY
        server.start()
        assert _until_cards(agent, "chroma-back").cards
    finally:
        server.stop()
