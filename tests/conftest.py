"""Fixtures shared by every test folder.

Expensive things (models, imported stores) are built once per session; each test gets its own
data dir so state never leaks between tests.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shopagent.settings import Settings

REPO = Path(__file__).resolve().parent.parent
pytest_plugins = ["session_fixtures"]  # the session fixtures several folders share, so each is built once


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Settings on a fresh data dir, templates-only replies, defaults otherwise."""
    return Settings(data_dir=tmp_path / "data", llm="none")


@pytest.fixture(scope="session")
def tau2_dir() -> Path:
    """The τ²-bench retail data, read in place (never copied into the repo)."""
    path = Path(os.environ.get("SHOPAGENT_TAU2_DIR", REPO.parent / "shared" / "data" / "tau2-retail"))
    if not (path / "db.json").is_file():
        if os.environ.get("CI"):
            pytest.fail(f"τ² data missing at {path}; CI always has it")
        pytest.skip(f"τ² data not found at {path} (set SHOPAGENT_TAU2_DIR)")
    return path
