"""Reliability fixtures, reused from the store and agent suites (imported, so each runs once per session).

``databases`` parametrises a test over SQLite and a throwaway PostgreSQL (tests/store/conftest.py);
``intents`` is the trained classifier and ``shop`` a τ² store on SQLite (tests/agent/conftest.py).
"""

from __future__ import annotations

from agent.conftest import agent_settings, intents, recognizer, shop, tau2_store_file  # noqa: F401
from store.conftest import (  # noqa: F401
    _postgres_databases,
    _sqlite_databases,
    databases,
    postgres_server,
    tau2_engine,
    tau2_template,
    world,
)
