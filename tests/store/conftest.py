"""Store fixtures: every store test runs on SQLite and on a throwaway PostgreSQL.

The databases, the τ² template and ``tau2_engine`` are shared with other folders
(tests/session_fixtures.py); here is what only the store tests use: a settable clock, an empty store, a shop behind that clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.engine import Engine

from session_fixtures import Databases, engine_from  # noqa: F401 (the store tests import them from here)
from shopagent.agent.store.shop import Shop


class Clock:
    """A settable clock, so tests can move time past a confirmation's expiry or a return window."""

    def __init__(self) -> None:
        self.now = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def empty_engine(databases: Databases) -> Iterator[Engine]:
    """A fresh, migrated, empty store."""
    yield from engine_from(databases, databases.template("empty", lambda engine: None))


@pytest.fixture
def shop(tau2_engine: Engine, clock: Clock) -> Shop:
    """The τ² store behind a controllable clock."""
    return Shop(tau2_engine, clock=clock)
