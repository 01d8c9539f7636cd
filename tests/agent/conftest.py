"""Agent fixtures: a copy of the τ² store per test (the store file, the trained intent classifier and the
recognizer are shared session fixtures in tests/session_fixtures.py)."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from shopagent.agent.agents import ShopAgent
from shopagent.agent.build import build_agent
from shopagent.agent.intents import IntentClassifier
from shopagent.agent.store.schema import AuditEntry
from shopagent.agent.store.shop import Shop
from shopagent.agent.store.tau2 import export_tau2
from shopagent.agent.turn import TurnInput, TurnResult
from shopagent.settings import Settings


@pytest.fixture
def shop(tau2_store_file: Path, tmp_path: Path) -> Shop:
    copy = tmp_path / "shop.db"
    shutil.copy(tau2_store_file, copy)
    return Shop.open(f"sqlite:///{copy}")


@pytest.fixture
def agent(shop: Shop, intents: IntentClassifier, agent_settings: Settings, recognizer: object) -> ShopAgent:
    return build_agent(agent_settings, shop=shop, intents=intents, chat_model=None, recognizer=recognizer)


Say = Callable[[str], TurnResult]


@pytest.fixture
def say(agent: ShopAgent) -> Say:
    """Send messages in one conversation."""
    return lambda text: agent.handle(TurnInput(conversation_id="test-conversation", text=text))


def audit(shop: Shop, kind: str) -> list[AuditEntry]:
    with shop.engine.connect() as connection:
        return list(connection.execute(select(AuditEntry).where(AuditEntry.kind == kind)))


def order(shop: Shop, order_id: str) -> dict:
    """An order as the store has it now (read past the agent's authentication, for assertions)."""
    return export_tau2(shop.engine)["orders"][order_id]
