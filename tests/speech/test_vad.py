"""Silero VAD: the span kept around speech, and streaming probabilities equal to one offline pass."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from faster_whisper.vad import get_vad_model

from shopagent.speech.audio import SAMPLE_RATE
from shopagent.speech.vad import WINDOW, VadStream, speech_span

from .media import silence


def test_span_covers_the_speech_and_drops_the_silence(say: Callable) -> None:
    speech = say("I would like a refund please.")
    audio = np.concatenate([silence(1.5), speech, silence(2.0)])
    start, end = speech_span(audio)
    assert 1.0 < start / SAMPLE_RATE < 1.5
    assert (1.5 + speech.size / SAMPLE_RATE) - 0.4 < end / SAMPLE_RATE < 1.5 + speech.size / SAMPLE_RATE + 0.4
    assert speech_span(silence(2.0)) is None


def test_streaming_probabilities_match_offline(say: Callable) -> None:
    audio = np.concatenate([silence(0.5), say("Where is my parcel?"), silence(0.5)])
    audio = np.pad(audio, (0, WINDOW - audio.size % WINDOW))
    offline = get_vad_model()(audio).reshape(-1)
    stream, rng, pos, chunks = VadStream(), np.random.default_rng(3), 0, []
    while pos < audio.size:
        size = int(rng.integers(1, 4000))
        chunks.append(stream(audio[pos : pos + size]))
        pos += size
    np.testing.assert_allclose(np.concatenate(chunks), offline, atol=1e-6)
