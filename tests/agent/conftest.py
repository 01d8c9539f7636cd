"""Agent fixtures: the τ² store imported once, copied per test; one trained intent classifier."""

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
from shopagent.agent.store.tau2 import export_tau2, import_tau2
from shopagent.agent.turn import TurnInput, TurnResult
from shopagent.settings import Settings


@pytest.fixture(scope="session")
def agent_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("agent-data"), llm="none")
    settings.ensure_dirs()
    return settings


@pytest.fixture(scope="session")
def intents(agent_settings: Settings) -> IntentClassifier:
    return IntentClassifier.load_or_train(agent_settings)


@pytest.fixture(scope="session")
def tau2_store_file(tau2_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tau2") / "template.db"
    shop = Shop.open(f"sqlite:///{path}")
    import_tau2(shop.engine, tau2_dir / "db.json")
    shop.engine.dispose()
    return path


@pytest.fixture
def shop(tau2_store_file: Path, tmp_path: Path) -> Shop:
    copy = tmp_path / "shop.db"
    shutil.copy(tau2_store_file, copy)
    return Shop.open(f"sqlite:///{copy}")


@pytest.fixture(scope="session")
def recognizer(agent_settings: Settings) -> object:
    from shopagent.speech.transcribe import load_recognizer

    return load_recognizer(agent_settings)


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
