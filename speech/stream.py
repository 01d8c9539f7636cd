"""Streaming recognition: feed audio chunks as they arrive, get turn events back.

Endpointing runs on audio time (samples counted), not on the wall clock, so a test can push a whole
conversation through faster than real time and get the same turns. The injected ``clock`` is used
only for what really is wall-clock: the client going quiet mid-turn (``poll``), and the latency from
the end of a turn to its text.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np

from shopagent.settings import Settings, get_settings
from shopagent.speech.audio import SAMPLE_RATE, Resampler
from shopagent.speech.backends import Recognizer
from shopagent.speech.errors import AudioError
from shopagent.speech.transcribe import TranscribeOptions, Transcript, load_recognizer, transcribe
from shopagent.speech.vad import WINDOW, VadConfig, VadStream

_WINDOW_S = WINDOW / SAMPLE_RATE


@dataclass(frozen=True)
class TurnEvent:
    kind: Literal["speech_start", "turn_end"]
    at: float  # audio seconds since the stream began (start of speech, or end of the turn)
    reason: Literal["silence", "max_length", "idle", "closed"] | None = None  # why the turn ended
    transcript: Transcript | None = None
    error: AudioError | None = None  # e.g. NoSpeech: VAD heard a voice but Whisper found no words
    latency: float | None = None  # clock seconds from detecting the end of the turn to its text


class TurnStream:
    """One conversation's audio. Not thread-safe: feed it from one task; recognizers may be shared.

    ``feed`` takes float32 samples in [-1, 1] or little-endian int16 PCM bytes, at ``sample_rate``
    with ``channels`` interleaved; the browser mic (AudioWorklet / ``getUserMedia``) sends this.
    """

    def __init__(self, *, settings: Settings | None = None, recognizer: Recognizer | None = None,
                 options: TranscribeOptions = TranscribeOptions(), sample_rate: int = SAMPLE_RATE,
                 channels: int = 1, vad: VadConfig = VadConfig(), idle_timeout_s: float = 1.5,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.settings = settings or get_settings()
        self.recognizer = recognizer or load_recognizer(self.settings)
        self.options = options
        self.sample_rate, self.channels = sample_rate, channels
        self.vad = vad
        self.idle_timeout_s = idle_timeout_s
        self.clock = clock
        self._resample = Resampler()
        self._probs = VadStream()
        self._byte_tail = b""
        self._pending = np.zeros(0, np.float32)  # resampled samples not yet judged by VAD
        self._windows_seen = 0
        self._preroll: list[np.ndarray] = []  # windows before speech, kept for the onset
        self._turn: list[np.ndarray] = []
        self._in_speech = False
        self._speech_run = self._silence_run = 0
        self._last_feed = clock()

    def feed(self, chunk: bytes | np.ndarray) -> list[TurnEvent]:
        """Add audio; return the events it completes (speech start, end of turn with its transcript)."""
        if isinstance(chunk, (bytes, bytearray, memoryview)):
            # A network chunk may end mid-sample or mid-frame: carry the remainder to the next one.
            data = self._byte_tail + bytes(chunk)
            usable = len(data) - len(data) % (2 * self.channels)
            self._byte_tail = data[usable:]
            samples = np.frombuffer(data[:usable], "<i2")
        else:
            samples = np.asarray(chunk)
        samples = samples.reshape(-1, self.channels)
        self._last_feed = self.clock()
        new = self._resample.pcm(samples, self.sample_rate)
        probs = self._probs(new)  # it buffers partial windows exactly as self._pending does
        audio = np.concatenate([self._pending, new])
        self._pending = audio[probs.size * WINDOW :]
        events: list[TurnEvent] = []
        for i, prob in enumerate(probs):
            events += self._step(audio[i * WINDOW : (i + 1) * WINDOW], float(prob))
        return events

    def poll(self) -> list[TurnEvent]:
        """End an open turn if no audio arrived for ``idle_timeout_s`` (the client stopped sending)."""
        if self._in_speech and self.clock() - self._last_feed >= self.idle_timeout_s:
            return [self._end_turn("idle")]
        return []

    def close(self) -> list[TurnEvent]:
        """End of stream: finish the open turn, if any."""
        return [self._end_turn("closed")] if self._in_speech else []

    @property
    def _now(self) -> float:
        return self._windows_seen * _WINDOW_S

    def _step(self, window: np.ndarray, prob: float) -> list[TurnEvent]:
        self._windows_seen += 1
        config = self.vad
        if not self._in_speech:
            self._preroll.append(window)
            self._speech_run = self._speech_run + 1 if prob >= config.threshold else 0
            keep = int((config.pad_s + config.min_speech_s) / _WINDOW_S) + 1
            del self._preroll[:-keep]
            if self._speech_run * _WINDOW_S < config.min_speech_s:
                return []
            self._in_speech, self._silence_run = True, 0
            self._turn, self._preroll = self._preroll, []
            return [TurnEvent("speech_start", round(self._now - self._speech_run * _WINDOW_S, 3))]
        self._turn.append(window)
        if prob >= config.threshold:
            self._silence_run = 0
        elif prob < config.neg_threshold:
            self._silence_run += 1
        if self._silence_run * _WINDOW_S >= config.end_silence_s:
            return [self._end_turn("silence")]
        if len(self._turn) * _WINDOW_S >= self.settings.max_audio_seconds:
            return [self._end_turn("max_length")]
        return []

    def _end_turn(self, reason: str) -> TurnEvent:
        detected = self.clock()
        if reason in ("idle", "closed"):  # no more audio is coming for this turn: keep the tail too
            self._turn.append(self._pending)
            self._pending = np.zeros(0, np.float32)
        audio = np.concatenate(self._turn)
        self._turn, self._in_speech, self._speech_run = [], False, 0
        try:
            result = transcribe(audio, settings=self.settings, options=self.options, recognizer=self.recognizer)
        except AudioError as exc:
            return TurnEvent("turn_end", round(self._now, 3), reason, error=exc,
                             latency=self.clock() - detected)
        return TurnEvent("turn_end", round(self._now, 3), reason, transcript=result,
                         latency=self.clock() - detected)
