"""Reliability fixtures: the agent suite's ``shop`` (a τ² store on SQLite, copied per test).

Everything heavy (the intent classifier, the recognizer, both databases, ``world``) is a shared session
fixture in tests/session_fixtures.py, built once however many folders use it.
"""

from __future__ import annotations

from agent.conftest import shop  # noqa: F401
