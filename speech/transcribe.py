"""The one entry point for speech recognition: audio bytes in, :class:`Transcript` out.

Pipeline: decode (PyAV, limits) → trim silence (Silero VAD) → Whisper on one short window (or the
library's long-form path beyond 30 s) → write spoken ids and emails out. Each stage is timed.
Recognizers are loaded once per process and shared; calls on one recognizer are serialized.
"""

from __future__ import annotations

import gzip
import math
import re
import threading
import time
from dataclasses import asdict, dataclass, field, replace

import numpy as np

from shopagent.settings import Settings, get_settings
from shopagent.speech.audio import SAMPLE_RATE, decode_audio
from shopagent.speech.backends import (
    BACKENDS,
    POSITIONS_PER_S,
    WINDOW_S,
    DecodeOptions,
    Decoded,
    Recognizer,
    Segment,
    audio_ctx_for,
)
from shopagent.speech.errors import AudioTooLong, EmptyAudio, NoSpeech
from shopagent.speech.normalize import normalize_spoken
from shopagent.speech.vad import VadConfig, speech_span

# Generic shop-support wording for the optional prompt; product names come from the caller's catalog.
SUPPORT_TERMS = ("order", "refund", "return", "exchange", "tracking number", "cancel", "delivery",
                 "invoice", "gift card", "PayPal", "credit card", "zip code")


@dataclass(frozen=True)
class TranscribeOptions:
    language: str | None = None  # None: detect (multilingual model) or English (English-only model)
    vocabulary: tuple[str, ...] = ()  # catalog product names to bias toward (cut WER 26% → 21% in bench)
    support_prompt: bool = False  # also prime with generic support wording (no significant gain in bench)
    beam_size: int = 1
    short_context: bool = True  # encode only as much of the 30 s window as the clip needs
    context_margin_s: float = 1.0  # encoder window = speech + this much, in whole seconds,
    min_context_s: float = 10.0  # but never shorter: tiny windows make Whisper repeat itself (bench)
    vad: bool = True
    normalize: bool = True  # write spoken ids/emails out (normalize.py)
    max_tokens_per_s: float = 10.0  # a window emitting more is looping: redo it at full context


@dataclass(frozen=True)
class Transcript:
    text: str  # after normalize_spoken (what the agent should read)
    raw_text: str  # what Whisper wrote
    language: str
    language_probability: float
    confidence: float  # geometric-mean token probability, exp(avg_logprob), in [0, 1]
    no_speech_prob: float
    segments: list[Segment]  # times in seconds from the start of the input audio
    duration: float  # seconds of input audio
    speech_start: float  # the span VAD kept
    speech_end: float
    audio_ctx: int  # encoder positions used (1500 = the full 30 s window)
    model: str
    backend: str
    timings: dict[str, float] = field(default_factory=dict)  # seconds per stage, and "total"

    def to_dict(self) -> dict:
        return asdict(self)


_recognizers: dict[tuple, Recognizer] = {}
_recognizers_lock = threading.Lock()


def load_recognizer(settings: Settings | None = None, *, model: str | None = None,
                    backend: str | None = None) -> Recognizer:
    """The process-wide recognizer for (model, backend, thread budget); loaded and warmed on first use.

    The openai-whisper backend converts the CT2 model on its first run in a data dir (seconds).
    """
    settings = settings or get_settings()
    model, backend = model or settings.asr_model, backend or settings.asr_backend
    key = (model, backend, settings.threads_asr, settings.threads_torch, str(settings.models_dir))
    with _recognizers_lock:
        if key not in _recognizers:
            recognizer = BACKENDS[backend](model, settings)
            # First calls pay for kernel selection, allocation and imports (the normalizer pulls in
            # whisper and torch); pay them at load, not on a user's first question.
            recognizer.decode(np.zeros(SAMPLE_RATE, np.float32), DecodeOptions(audio_ctx=100))
            normalize_spoken("one two three")
            _recognizers[key] = recognizer
        return _recognizers[key]


def transcribe(audio: bytes | np.ndarray, *, settings: Settings | None = None,
               options: TranscribeOptions = TranscribeOptions(),
               recognizer: Recognizer | None = None) -> Transcript:
    """Transcribe an uploaded file (bytes, any format) or 16 kHz mono float32 samples.

    Raises :class:`~shopagent.speech.errors.AudioError` subclasses for unusable input, including
    :class:`~shopagent.speech.errors.NoSpeech` when nobody speaks.
    """
    settings = settings or get_settings()
    recognizer = recognizer or load_recognizer(settings)
    timings: dict[str, float] = {}
    started = clock = time.perf_counter()

    def lap(stage: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[stage] = round(now - clock, 4)
        clock = now

    if isinstance(audio, (bytes, bytearray, memoryview)):
        samples = decode_audio(bytes(audio), max_seconds=settings.max_audio_seconds,
                               max_bytes=settings.max_upload_bytes)
        lap("decode")
    else:
        samples = np.asarray(audio, np.float32).reshape(-1)
        if samples.size == 0:
            raise EmptyAudio("no audio samples")
        if samples.size > settings.max_audio_seconds * SAMPLE_RATE:
            raise AudioTooLong(f"{samples.size / SAMPLE_RATE:.1f} s of audio; the limit is "
                               f"{settings.max_audio_seconds:g} s")
    start, end = 0, samples.size
    if options.vad:
        span = speech_span(samples, VadConfig())
        lap("vad")
        if span is None:
            raise NoSpeech("no speech detected in the audio")
        start, end = span
    speech = samples[start:end]

    decoded = _decode(recognizer, speech, options)
    lap("asr")
    if not decoded.text or (decoded.no_speech_prob > 0.6 and decoded.avg_logprob < -1.0):
        raise NoSpeech("no words recognised in the audio")  # Whisper's own silence rule
    text = normalize_spoken(decoded.text) if options.normalize else decoded.text
    lap("normalize")
    timings["total"] = round(time.perf_counter() - started, 4)
    offset = start / SAMPLE_RATE
    return Transcript(
        text=text, raw_text=decoded.text, language=decoded.language,
        language_probability=round(decoded.language_probability, 4),
        confidence=round(math.exp(min(decoded.avg_logprob, 0.0)), 4),
        no_speech_prob=round(decoded.no_speech_prob, 4),
        segments=[Segment(round(s.start + offset, 2), round(s.end + offset, 2), s.text) for s in decoded.segments],
        duration=round(samples.size / SAMPLE_RATE, 3), speech_start=round(offset, 3),
        speech_end=round(end / SAMPLE_RATE, 3), audio_ctx=decoded.audio_ctx,
        model=recognizer.model_name, backend=recognizer.backend, timings=timings,
    )


def build_prompt(options: TranscribeOptions) -> str | None:
    """Decoder context that makes catalog names and support wording likely (Whisper's initial prompt)."""
    parts = []
    if options.support_prompt:
        parts.append("Customer support call about an " + ", ".join(SUPPORT_TERMS) + ".")
    if options.vocabulary:
        parts.append("Products: " + ", ".join(options.vocabulary) + ".")
    return " ".join(parts) or None


def _decode(recognizer: Recognizer, speech: np.ndarray, options: TranscribeOptions) -> Decoded:
    """Decode with a short encoder window; redo at full context if the short window produced a loop."""
    seconds = speech.size / SAMPLE_RATE
    ctx = audio_ctx_for(seconds, options.context_margin_s, options.min_context_s)
    short = options.short_context and ctx < WINDOW_S * POSITIONS_PER_S
    decode_options = DecodeOptions(
        language=options.language, prompt=build_prompt(options), beam_size=options.beam_size,
        audio_ctx=ctx if short else None,
        max_tokens=min(math.ceil(options.max_tokens_per_s * seconds) + 10, 224),  # 224: Whisper's cap
    )
    decoded = recognizer.decode(speech, decode_options)
    if short and _looping(decoded, decode_options.max_tokens):
        decoded = recognizer.decode(speech, replace(decode_options, audio_ctx=None))
    return decoded


def _looping(decoded: Decoded, max_tokens: int) -> bool:
    """Signs of Whisper's repetition loop, which a short window makes likelier: the token cap reached,
    text that compresses too well (Whisper's own 2.4 test), or any four words said twice."""
    text = decoded.text.encode()
    if decoded.tokens >= max_tokens or len(text) / max(len(gzip.compress(text)), 1) > 2.4:
        return True
    words = re.findall(r"\w+", decoded.text.lower())
    grams = [tuple(words[i : i + 4]) for i in range(len(words) - 3)]
    return len(grams) != len(set(grams))
