"""Voice activity detection with the Silero VAD model that ships inside faster-whisper.

Two uses: trimming silence around an uploaded utterance (Whisper pays for every second it hears and
hallucinates on silence) and finding the end of a turn in a live stream. Both run the same ONNX model
(one intra-op thread, ~1 ms per 32 ms window), so offline and streaming agree window for window.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from faster_whisper.vad import VadOptions, get_speech_timestamps, get_vad_model

from shopagent.speech.audio import SAMPLE_RATE

WINDOW = 512  # samples per Silero decision (32 ms at 16 kHz)
_CONTEXT = 64  # samples of the previous window the model sees with each window


@dataclass(frozen=True)
class VadConfig:
    threshold: float = 0.5  # speech when the probability reaches this
    neg_threshold: float = 0.35  # silence only below this (hysteresis)
    min_speech_s: float = 0.25  # shorter bursts (clicks, a cough) are not speech
    pad_s: float = 0.3  # audio kept either side of speech: Whisper needs the onset and the tail
    end_silence_s: float = 0.5  # streaming: this much silence after speech ends the turn


def speech_span(audio: np.ndarray, config: VadConfig = VadConfig()) -> tuple[int, int] | None:
    """``(start, end)`` sample indices from the first to the last speech, padded; ``None`` if silent.

    Pauses inside the utterance are kept: cutting them out would shift Whisper's timing and merge words.
    """
    regions = get_speech_timestamps(
        audio,
        VadOptions(
            threshold=config.threshold,
            neg_threshold=config.neg_threshold,
            min_speech_duration_ms=int(config.min_speech_s * 1000),
            min_silence_duration_ms=int(config.end_silence_s * 1000),
            speech_pad_ms=int(config.pad_s * 1000),
        ),
        sampling_rate=SAMPLE_RATE,
    )
    if not regions:
        return None
    return max(regions[0]["start"], 0), min(regions[-1]["end"], audio.size)


class VadStream:
    """Speech probabilities for audio that arrives in pieces, identical to one offline pass.

    Keeps the model's recurrent state and the last 64 samples between calls, and buffers samples
    until a full 512-sample window is there.
    """

    def __init__(self) -> None:
        self._session = get_vad_model().session
        self._h = np.zeros((1, 1, 128), np.float32)
        self._c = np.zeros((1, 1, 128), np.float32)
        self._context = np.zeros(_CONTEXT, np.float32)
        self._pending = np.zeros(0, np.float32)

    def __call__(self, samples: np.ndarray) -> np.ndarray:
        """Probabilities for every window completed by ``samples`` (possibly none)."""
        audio = np.concatenate([self._pending, samples.astype(np.float32, copy=False)])
        n = audio.size // WINDOW
        self._pending = audio[n * WINDOW :]
        if n == 0:
            return np.zeros(0, np.float32)
        windows = audio[: n * WINDOW].reshape(n, WINDOW)
        contexts = np.concatenate([self._context[None], windows[:-1, -_CONTEXT:]])
        self._context = windows[-1, -_CONTEXT:].copy()
        batch = np.concatenate([contexts, windows], axis=1)
        probs, self._h, self._c = self._session.run(None, {"input": batch, "h": self._h, "c": self._c})
        return np.asarray(probs, np.float32).reshape(-1)
