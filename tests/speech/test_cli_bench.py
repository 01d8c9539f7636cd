"""`shopagent transcribe` and the benchmark's statistics and corpus (the timed run is a command, not a test)."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from shopagent.agent import cli
from shopagent.settings import Settings
from shopagent.speech.audio import to_wav
from shopagent.speech.bench import errors_and_words, wer_interval
from shopagent.speech.synth import ESPEAK_VOICES, make_utterances

from .media import silence


@pytest.mark.slow
def test_transcribe_command(say: Callable, speech_settings: Settings, tmp_path: Path,
                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cli, "_settings", lambda: speech_settings)
    clip = tmp_path / "question.wav"
    clip.write_bytes(to_wav(np.concatenate([silence(0.4), say("Do you ship to Canada?"), silence(0.4)])))
    runner = CliRunner()
    plain = runner.invoke(cli.app, ["transcribe", str(clip)])
    assert plain.exit_code == 0 and "canada" in plain.stdout.lower(), plain.output
    full = runner.invoke(cli.app, ["transcribe", str(clip), "--json"])
    result = json.loads(full.stdout)
    assert {"text", "language", "segments", "confidence", "timings"} <= result.keys()

    silent = tmp_path / "silent.wav"
    silent.write_bytes(to_wav(silence(2.0)))
    refused = runner.invoke(cli.app, ["transcribe", str(silent)])
    assert refused.exit_code == 2 and "no speech" in refused.output
    bad = runner.invoke(cli.app, ["transcribe", str(clip), "--model", "large"])
    assert bad.exit_code == 2


def test_scoring_ignores_formatting_but_not_words() -> None:
    assert errors_and_words("Cancel order W4820193.", "cancel order w four eight two zero one nine three") == (0, 4)
    assert errors_and_words("My email is ann.lee@example.com", "my email is ann dot lee at example dot com")[0] == 0
    assert errors_and_words("the blue jacket", "the blue jackets") == (1, 3)
    assert errors_and_words("the blue jacket", "") == (3, 3)


def test_bootstrap_interval_brackets_the_corpus_wer() -> None:
    pairs = [(1, 10), (0, 8), (3, 12), (0, 5), (2, 9)] * 6
    wer, low, high = wer_interval(pairs)
    assert wer == pytest.approx(36 / 264)
    assert low < wer < high and high - low < 0.15


def test_synthesized_set_covers_the_shop_vocabulary() -> None:
    utterances = make_utterances(72, piper=True)
    assert len(utterances) >= 60 and len({u.id for u in utterances}) == len(utterances)
    assert sum("@" in u.text for u in utterances) >= 6 and sum("order W" in u.text for u in utterances) >= 10
    assert {u.voice for u in utterances if u.engine == "espeak"} == set(ESPEAK_VOICES)
    assert len({u.speed for u in utterances}) >= 4 and sum(u.snr_db is not None for u in utterances) >= 20
    assert any(u.engine == "piper" for u in utterances)
    assert make_utterances(72) == make_utterances(72)  # seeded: the same set every run
