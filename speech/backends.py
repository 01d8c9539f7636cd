"""Two Whisper engines behind one small interface.

- ``whisper``: openai-whisper (PyTorch, float32) on the checkpoint converted from the registry's
  CTranslate2 files (:mod:`shopagent.speech.convert`).
- ``ctranslate2``: the same CT2 files run directly by CTranslate2 (int8 by default), via
  faster-whisper's model wrapper.

Both decode a clip of up to 30 s as one window whose encoder context may be shortened
(``audio_ctx``, as whisper.cpp's ``--audio-ctx`` does): Whisper always encodes 30 s, and for a
4 s question that fixed cost dominates. The window is decoded greedily *with* timestamp tokens: in
short windows that mode repeats itself far less often than ``<|notimestamps|>`` (bench: 0 vs 1–3 loops
of 82 clips at a 10 s window) and it yields segment times. Longer clips use each library's own
long-form transcription.
"""

from __future__ import annotations

import math
import threading
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import partial
from typing import ClassVar

import numpy as np

from shopagent.logs import get_logger
from shopagent.settings import Settings
from shopagent.speech.audio import SAMPLE_RATE

log = get_logger(__name__)

WINDOW_S = 30  # Whisper's fixed input window
POSITIONS_PER_S = 50  # encoder positions per second of audio (10 ms mel hop, stride-2 conv)
_HOP = 160


@dataclass(frozen=True)
class DecodeOptions:
    language: str | None = None  # None: detect with multilingual models; English-only models say "en"
    prompt: str | None = None  # text the decoder sees as preceding context (domain vocabulary)
    beam_size: int = 1  # 1 = greedy
    audio_ctx: int | None = None  # encoder positions for a single-window clip; None = the full 1500
    max_tokens: int = 224  # cap on generated tokens per window (Whisper's own cap is 224)


@dataclass(frozen=True)
class Segment:
    start: float  # seconds from the start of the audio given to the recognizer
    end: float
    text: str


@dataclass(frozen=True)
class Decoded:
    text: str
    language: str
    language_probability: float
    segments: list[Segment]
    avg_logprob: float  # mean token log-probability (Whisper's own confidence signal)
    no_speech_prob: float
    tokens: int  # text tokens generated
    audio_ctx: int  # encoder positions used (1500 = 30 s)


def audio_ctx_for(seconds: float, margin_s: float, minimum_s: float) -> int:
    """Encoder positions covering ``seconds`` of audio plus ``margin_s`` (at least ``minimum_s``),
    rounded up to whole seconds."""
    window = max(math.ceil(seconds + margin_s), math.ceil(minimum_s))
    return min(window * POSITIONS_PER_S, WINDOW_S * POSITIONS_PER_S)


class Recognizer(ABC):
    """One loaded Whisper model. Thread-safe: calls are serialized (each engine already uses every
    thread it is given, and openai-whisper's KV cache hooks live on the shared model)."""

    backend: ClassVar[str]

    def __init__(self, model_name: str, settings: Settings) -> None:
        self.model_name = model_name
        self._lock = threading.Lock()

    @property
    @abstractmethod
    def multilingual(self) -> bool: ...

    def decode(self, audio: np.ndarray, options: DecodeOptions = DecodeOptions()) -> Decoded:
        """Transcribe 16 kHz mono float32 audio (already trimmed; any length the limits allow)."""
        if not self.multilingual:
            options = replace(options, language="en")
        with self._lock:
            if audio.size <= WINDOW_S * SAMPLE_RATE:
                return self._window(audio, options)
            return self._long(audio, options)

    @abstractmethod
    def _window(self, audio: np.ndarray, options: DecodeOptions) -> Decoded:
        """One window of at most 30 s, greedy with timestamps."""

    @abstractmethod
    def _long(self, audio: np.ndarray, options: DecodeOptions) -> Decoded:
        """Longer than one window: the library's sliding-window transcription with timestamps."""


def _window_samples(audio: np.ndarray, n_ctx: int) -> np.ndarray:
    samples = n_ctx * 2 * _HOP
    return np.pad(audio, (0, max(samples - audio.size, 0)))[:samples]


def _segments(tokens: list[int], timestamp_begin: int, decode: Callable[[list[int]], str],
              duration: float) -> list[Segment]:
    """Split a window's tokens at Whisper's timestamp tokens (0.02 s steps) into timed segments."""
    segments, text, start = [], [], 0.0
    for token in tokens:
        if token < timestamp_begin:
            text.append(token)
            continue
        time = min((token - timestamp_begin) * 0.02, duration)
        if text:
            segments.append(Segment(start, time, decode(text).strip()))
            text = []
        start = time
    if text:  # the window ended mid-segment
        segments.append(Segment(start, duration, decode(text).strip()))
    return [segment for segment in segments if segment.text]


class WhisperRecognizer(Recognizer):
    """openai-whisper on the converted checkpoint, in float32 on torch's CPU thread pool."""

    backend = "whisper"

    def __init__(self, model_name: str, settings: Settings) -> None:
        import torch
        import whisper

        from shopagent.speech.convert import whisper_checkpoint

        super().__init__(model_name, settings)
        torch.set_num_threads(settings.threads_torch)  # torch's pool is process-wide: its own budget
        self.checkpoint = whisper_checkpoint(model_name, settings,
                                             progress=lambda stage: log.info("asr_model", stage=stage))
        self.model = whisper.load_model(str(self.checkpoint), device="cpu")

    @property
    def multilingual(self) -> bool:
        return self.model.is_multilingual

    def _window(self, audio: np.ndarray, options: DecodeOptions) -> Decoded:
        import torch
        import whisper

        full = self.model.dims.n_audio_ctx
        n_ctx = min(options.audio_ctx or full, full)
        model = self.model if n_ctx == full else _ShortContext(self.model, n_ctx)
        with torch.inference_mode():
            mel = whisper.log_mel_spectrogram(torch.from_numpy(_window_samples(audio, n_ctx)),
                                              self.model.dims.n_mels)
            result = whisper.decoding.decode(model, mel, whisper.DecodingOptions(
                language=options.language, prompt=options.prompt, fp16=False,
                beam_size=options.beam_size if options.beam_size > 1 else None, sample_len=options.max_tokens,
                # whisper.decoding sizes a timestamp step as 30 s / n_audio_ctx; scale so the first
                # timestamp may still be up to Whisper's default 1 s.
                max_initial_timestamp=1.0 * full / n_ctx,
            ))
        tokenizer = whisper.tokenizer.get_tokenizer(self.multilingual, num_languages=self.model.num_languages)
        probability = (result.language_probs or {}).get(result.language, 1.0)
        segments = _segments(result.tokens, tokenizer.timestamp_begin, tokenizer.decode, audio.size / SAMPLE_RATE)
        return Decoded(result.text.strip(), result.language, probability, segments,
                       result.avg_logprob, result.no_speech_prob, len(result.tokens), n_ctx)

    def _long(self, audio: np.ndarray, options: DecodeOptions) -> Decoded:
        import whisper

        result = whisper.transcribe(
            self.model, audio, language=options.language, initial_prompt=options.prompt, fp16=False,
            temperature=0.0, beam_size=options.beam_size if options.beam_size > 1 else None,
            condition_on_previous_text=False, verbose=None,
        )
        segments = result["segments"]
        return Decoded(
            result["text"].strip(), result["language"], 1.0,
            [Segment(s["start"], s["end"], s["text"].strip()) for s in segments],
            _mean([s["avg_logprob"] for s in segments]), _mean([s["no_speech_prob"] for s in segments], 1.0),
            sum(len(s["tokens"]) for s in segments), self.model.dims.n_audio_ctx,
        )


class _ShortContext:
    """A view of a Whisper model whose encoder takes ``n_ctx`` positions instead of 1500.

    openai-whisper asserts the full 30 s input, so the view slices the encoder's positional embedding
    (the weights are shared, nothing is copied) and reports the shorter context in ``dims`` so that
    ``whisper.decoding`` accepts the shorter audio features.
    """

    def __init__(self, model: "whisper.model.Whisper", n_ctx: int) -> None:  # noqa: F821
        import whisper

        self.dims = replace(model.dims, n_audio_ctx=n_ctx)
        self.decoder = model.decoder
        self.device = model.device
        self.is_multilingual = model.is_multilingual
        self.num_languages = model.num_languages
        self.install_kv_cache_hooks = model.install_kv_cache_hooks
        self.logits = model.logits
        self.detect_language = partial(whisper.decoding.detect_language, self)
        self._encoder = model.encoder

    def encoder(self, mel: "torch.Tensor") -> "torch.Tensor":  # noqa: F821
        import torch.nn.functional as F

        enc = self._encoder
        x = F.gelu(enc.conv2(F.gelu(enc.conv1(mel)))).permute(0, 2, 1)
        x = (x + enc.positional_embedding[: x.shape[1]]).to(x.dtype)
        for block in enc.blocks:
            x = block(x)
        return enc.ln_post(x)


class CTranslate2Recognizer(Recognizer):
    """CTranslate2 on the registry's CT2 files (int8 weights by default; the files are float16)."""

    backend = "ctranslate2"

    def __init__(self, model_name: str, settings: Settings, compute_type: str = "int8") -> None:
        from faster_whisper import WhisperModel

        from shopagent.registry import resolve_model

        super().__init__(model_name, settings)
        self.compute_type = compute_type
        self.model = WhisperModel(str(resolve_model(f"whisper-{model_name}", settings)), device="cpu",
                                  compute_type=compute_type, cpu_threads=settings.threads_asr, num_workers=1)

    @property
    def multilingual(self) -> bool:
        return self.model.model.is_multilingual

    def _window(self, audio: np.ndarray, options: DecodeOptions) -> Decoded:
        import ctranslate2
        from faster_whisper.tokenizer import Tokenizer

        n_ctx = min(options.audio_ctx or WINDOW_S * POSITIONS_PER_S, WINDOW_S * POSITIONS_PER_S)
        features = self.model.feature_extractor(_window_samples(audio, n_ctx), padding=0)
        encoded = self.model.model.encode(ctranslate2.StorageView.from_array(
            np.ascontiguousarray(features[None, :, : n_ctx * 2], dtype=np.float32)))
        language, probability = options.language, 1.0
        if language is None:
            token, probability = self.model.model.detect_language(encoded)[0][0]
            language = token[2:-2]
        tokenizer = Tokenizer(self.model.hf_tokenizer, self.multilingual, task="transcribe", language=language)
        previous = tokenizer.encode(" " + options.prompt.strip()) if options.prompt else []
        prompt = self.model.get_prompt(tokenizer, previous)
        # CT2 generates at most min(max_length / 2, max_length - len(prompt)) tokens.
        max_length = min(max(2 * options.max_tokens, options.max_tokens + len(prompt)), self.model.max_length)
        result = self.model.model.generate(
            encoded, [prompt], beam_size=options.beam_size, return_scores=True, return_no_speech_prob=True,
            max_length=max_length, suppress_blank=True, suppress_tokens=[-1],
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t != tokenizer.eot]
        text = tokenizer.decode([t for t in tokens if t < tokenizer.eot]).strip()
        avg_logprob = result.scores[0] * len(tokens) / (len(tokens) + 1)  # faster-whisper's definition
        segments = _segments(tokens, tokenizer.timestamp_begin, tokenizer.decode, audio.size / SAMPLE_RATE)
        return Decoded(text, language, probability, segments, avg_logprob, result.no_speech_prob, len(tokens), n_ctx)

    def _long(self, audio: np.ndarray, options: DecodeOptions) -> Decoded:
        segments, info = self.model.transcribe(
            audio, language=options.language, initial_prompt=options.prompt, beam_size=options.beam_size,
            temperature=0.0, condition_on_previous_text=False, vad_filter=False,
        )
        segments = list(segments)
        return Decoded(
            " ".join(s.text.strip() for s in segments).strip(), info.language, info.language_probability,
            [Segment(s.start, s.end, s.text.strip()) for s in segments],
            _mean([s.avg_logprob for s in segments]), _mean([s.no_speech_prob for s in segments], 1.0),
            sum(len(s.tokens) for s in segments), WINDOW_S * POSITIONS_PER_S,
        )


BACKENDS: dict[str, type[Recognizer]] = {cls.backend: cls for cls in (WhisperRecognizer, CTranslate2Recognizer)}


def _mean(values: list[float], empty: float = 0.0) -> float:
    return float(np.mean(values)) if values else empty
