"""Typed speech errors.

Every failure a caller can cause (bad upload, silence, missing optional engine) has its own class with
a plain-language message and the HTTP status the API layer should answer with, so routes map errors
without parsing messages.
"""

from __future__ import annotations


class SpeechError(Exception):
    """Base class of every error raised by :mod:`shopagent.speech`."""

    code = "speech_error"
    http_status = 500


class AudioError(SpeechError):
    """The audio the caller sent cannot be transcribed (a 4xx, not a server fault)."""

    code = "bad_audio"
    http_status = 422


class EmptyAudio(AudioError):
    code = "empty_audio"


class UndecodableAudio(AudioError):
    """Not audio, an unsupported codec, or corrupt data."""

    code = "undecodable_audio"
    http_status = 415


class TruncatedAudio(AudioError):
    """The container declares more audio than the data holds (an interrupted upload)."""

    code = "truncated_audio"


class AudioTooLong(AudioError):
    code = "audio_too_long"
    http_status = 413


class AudioTooLarge(AudioError):
    code = "audio_too_large"
    http_status = 413


class NoSpeech(AudioError):
    """Decodable audio in which voice activity detection finds nobody speaking."""

    code = "no_speech"


class ConversionError(SpeechError):
    """The CTranslate2 → openai-whisper conversion failed or did not reproduce the original model."""

    code = "conversion_failed"


class TTSUnavailable(SpeechError):
    """The optional Piper engine (GPL, out of process) is not installed or its voice is missing."""

    code = "tts_unavailable"
    http_status = 503


class TTSFailed(SpeechError):
    code = "tts_failed"
