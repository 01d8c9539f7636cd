"""Fusion fixtures: real encoders are loaded once per session (seconds each), everything else is tiny."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shopagent.fusion.image import ImageEncoder
from shopagent.settings import Settings


@pytest.fixture(scope="session")
def fusion_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """One data dir for the session, so encoded features are cached across tests."""
    return Settings(data_dir=tmp_path_factory.mktemp("fusion") / "data", llm="none", threads_torch=2)


@pytest.fixture(scope="session")
def image_encoder(fusion_settings: Settings) -> ImageEncoder:
    return ImageEncoder.load(fusion_settings)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Tiny models run fastest on one thread, and a shared CI box is not slowed down for everyone."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
