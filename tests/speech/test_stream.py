"""Streaming: chunks in (faster than real time), turns out, decided on audio time; the clock is injected."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

from shopagent.settings import Settings
from shopagent.speech.stream import TurnStream
from shopagent.speech.vad import VadConfig

from .media import silence
from .test_recognition import corpus_wer

pytestmark = pytest.mark.slow


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def as_pcm_48k_stereo(audio: np.ndarray) -> bytes:
    """What a browser would send: int16 interleaved stereo at 48 kHz."""
    up = np.interp(np.arange(0, audio.size, 16_000 / 48_000), np.arange(audio.size), audio)
    return (np.repeat(up[:, None], 2, axis=1) * 32767).astype("<i2").tobytes()


def feed_in_chunks(stream: TurnStream, data: bytes, seed: int = 0) -> list:
    rng = np.random.default_rng(seed)
    events, pos = [], 0
    while pos < len(data):
        size = int(rng.integers(301, 9001))  # odd sizes: chunks split samples and frames
        events += stream.feed(data[pos : pos + size])
        pos += size
    return events


def test_two_turns_from_a_chunked_browser_stream(say: Callable, speech_settings: Settings) -> None:
    first, second = "Where is my package?", "I want to return the blue jacket."
    audio = np.concatenate([silence(0.6), say(first), silence(1.2), say(second), silence(1.0)])
    stream = TurnStream(settings=speech_settings, sample_rate=48_000, channels=2, clock=FakeClock())
    events = feed_in_chunks(stream, as_pcm_48k_stereo(audio))
    assert [e.kind for e in events] == ["speech_start", "turn_end", "speech_start", "turn_end"]
    ends = [e for e in events if e.kind == "turn_end"]
    assert all(e.reason == "silence" and e.error is None for e in ends)
    assert corpus_wer([(first, ends[0].transcript.text), (second, ends[1].transcript.text)]) <= 0.15
    # Turn boundaries are audio times: the first ends ~0.5 s into the pause, the second after it.
    first_speech_end = 0.6 + say(first).size / 16_000
    assert first_speech_end < ends[0].at < first_speech_end + 1.0
    assert events[0].at == pytest.approx(0.6, abs=0.35)
    assert stream.close() == []


def test_client_going_quiet_ends_the_turn_by_the_clock(say: Callable, speech_settings: Settings) -> None:
    clock = FakeClock()
    stream = TurnStream(settings=speech_settings, clock=clock, idle_timeout_s=1.5)
    events = stream.feed(np.concatenate([silence(0.3), say("Can you check my order please?")]))
    assert [e.kind for e in events] == ["speech_start"]
    clock.now += 1.0
    assert stream.poll() == []
    clock.now += 1.0
    (end,) = stream.poll()
    assert end.reason == "idle" and "order" in end.transcript.text.lower()


def test_close_finishes_an_open_turn_and_silence_makes_none(say: Callable, speech_settings: Settings) -> None:
    stream = TurnStream(settings=speech_settings, clock=FakeClock())
    assert stream.feed(silence(3.0)) == []  # no speech: no events, no model call
    stream.feed(say("Thank you, goodbye."))
    (end,) = stream.close()
    assert end.reason == "closed" and "goodbye" in end.transcript.text.lower()


def test_end_silence_setting_controls_endpointing(say: Callable, speech_settings: Settings) -> None:
    audio = np.concatenate([say("Hello there."), silence(0.7), say("I need help."), silence(2.0)])
    patient = TurnStream(settings=speech_settings, clock=FakeClock(), vad=VadConfig(end_silence_s=1.5))
    eager = TurnStream(settings=speech_settings, clock=FakeClock(), vad=VadConfig(end_silence_s=0.4))
    assert [e.kind for e in patient.feed(audio)].count("turn_end") == 1  # the 0.7 s pause is mid-turn
    assert [e.kind for e in eager.feed(audio)].count("turn_end") == 2
