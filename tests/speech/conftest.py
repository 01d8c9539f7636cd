"""Speech fixtures: one data dir, one converted checkpoint and one loaded model per session.

Test audio is synthesized here at test time (espeak-ng, Piper when installed) from texts written
for these tests; nothing is downloaded and no audio is committed.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from shopagent.settings import Settings


@pytest.fixture(scope="session")
def speech_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    settings = Settings(data_dir=tmp_path_factory.mktemp("speech") / "data", llm="none",
                        threads_asr=2, threads_torch=2)
    settings.ensure_dirs()
    return settings


@pytest.fixture(scope="session")
def say() -> Callable[..., np.ndarray]:
    """``say(text, voice="en-us", speed=160)`` → 16 kHz float32 speech from espeak-ng (cached)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    from shopagent.speech.synth import espeak

    cache: dict[tuple, np.ndarray] = {}

    def speak(text: str, voice: str = "en-us", speed: float = 160) -> np.ndarray:
        key = (text, voice, speed)
        if key not in cache:
            cache[key] = espeak(text, voice, speed)
        return cache[key]

    return speak


@pytest.fixture(scope="session")
def pocketsphinx_dir() -> Path:
    path = Path("/usr/share/pocketsphinx/test/data/librivox")
    if not (path / "transcription").is_file():
        pytest.skip("pocketsphinx-testdata is not installed (apt-get install pocketsphinx-testdata)")
    return path
