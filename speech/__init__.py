"""Speech for shopagent: recognition (Whisper, offline, CPU) and spoken replies (Piper, out of process).

Entry points::

    from shopagent.speech import transcribe, load_recognizer
    transcript = transcribe(wav_bytes)          # Transcript: text, language, segments, timings, ...

Errors are typed (:mod:`shopagent.speech.errors`) so the API maps each to its HTTP status. Heavy
modules (torch, CTranslate2, PyAV) load on first use, not on ``import shopagent.speech``.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from shopagent.speech.errors import (
    AudioError,
    AudioTooLarge,
    AudioTooLong,
    ConversionError,
    EmptyAudio,
    NoSpeech,
    SpeechError,
    TruncatedAudio,
    TTSFailed,
    TTSUnavailable,
    UndecodableAudio,
)

_LAZY = {
    "transcribe": "shopagent.speech.transcribe",
    "load_recognizer": "shopagent.speech.transcribe",
    "Transcript": "shopagent.speech.transcribe",
    "TranscribeOptions": "shopagent.speech.transcribe",
    "TurnStream": "shopagent.speech.stream",
    "PiperVoice": "shopagent.speech.tts",
}

__all__ = [
    "AudioError", "AudioTooLarge", "AudioTooLong", "ConversionError", "EmptyAudio", "NoSpeech",
    "SpeechError", "TruncatedAudio", "TTSFailed", "TTSUnavailable", "UndecodableAudio", *_LAZY,
]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module = import_module(_LAZY[name])
    # Importing shopagent.speech.transcribe binds the *module* to this package's ``transcribe``;
    # rebind the public names to the functions (as openai-whisper's eager imports do).
    for public, source in _LAZY.items():
        if source == module.__name__:
            globals()[public] = getattr(module, public)
    return globals()[name]
