"""Decoding uploads: every container users send, and every kind of bad input → a typed error, fast."""

from __future__ import annotations

import time

import numpy as np
import pytest

from shopagent.settings import Settings
from shopagent.speech import audio as audio_module
from shopagent.speech import errors
from shopagent.speech.audio import SAMPLE_RATE, Resampler, decode_audio, to_wav
from shopagent.speech.backends import Recognizer
from shopagent.speech.transcribe import transcribe

from .media import FORMATS, encode, silence, tone


@pytest.mark.parametrize(("container", "codec", "rate"), FORMATS, ids=[f[0] for f in FORMATS])
def test_every_upload_format_decodes_to_16k_mono(container: str, codec: str, rate: int) -> None:
    data = encode(tone(2.0), container, codec, rate=rate, channels=2)
    audio = decode_audio(data)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(audio.size / SAMPLE_RATE - 2.0) < 0.1  # codec priming may add a few ms
    # Stereo with the same signal in both channels averages back to the original level (no +3 dB).
    assert 0.25 < np.abs(audio).max() < 0.36


def test_any_sample_rate_and_mono() -> None:
    for rate in (8_000, 22_050, 48_000):
        audio = decode_audio(encode(tone(1.0), "wav", "pcm_s16le", rate=rate, channels=1))
        assert abs(audio.size - SAMPLE_RATE) < 200


@pytest.mark.parametrize(
    ("data", "error"),
    [
        (b"", errors.EmptyAudio),
        (b"hello, this is a text file and not audio\n" * 20, errors.UndecodableAudio),
        (b"\x89PNG\r\n\x1a\n" + bytes(2000), errors.UndecodableAudio),
        (bytes(range(256)) * 40, errors.UndecodableAudio),
        (to_wav(np.zeros(0, np.float32)), errors.EmptyAudio),
        (to_wav(tone(2.0))[:44], errors.TruncatedAudio),  # header only: every sample is missing
    ],
    ids=["empty", "text", "png", "random-bytes", "wav-no-samples", "wav-header-only"],
)
def test_bad_input_raises_typed_error(data: bytes, error: type[errors.AudioError]) -> None:
    with pytest.raises(error) as info:
        decode_audio(data)
    assert str(info.value)  # a message a person can read


@pytest.mark.parametrize(
    ("container", "codec", "error"),
    [
        ("wav", "pcm_s16le", errors.TruncatedAudio),
        ("webm", "libopus", errors.TruncatedAudio),
        ("flac", "flac", errors.UndecodableAudio),
        ("ipod", "aac", errors.UndecodableAudio),
    ],
    ids=["wav", "webm", "flac", "m4a"],
)
def test_truncated_upload(container: str, codec: str, error: type[errors.AudioError]) -> None:
    data = encode(tone(3.0), container, codec, rate=48_000)
    with pytest.raises(error):
        decode_audio(data[: len(data) // 2])


def test_over_long_audio_stops_at_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    data = encode(tone(61.0), "flac", "flac", rate=8_000, channels=1)
    started = time.perf_counter()
    with pytest.raises(errors.AudioTooLong, match="60"):
        decode_audio(data, max_seconds=60.0)
    assert time.perf_counter() - started < 5
    # A stream that does not declare its length (live webm from a browser) is cut off while decoding.
    monkeypatch.setattr(audio_module, "_declared_seconds", lambda *_: None)
    with pytest.raises(errors.AudioTooLong):
        decode_audio(data, max_seconds=1.0)


def test_oversized_upload_is_rejected_before_decoding() -> None:
    with pytest.raises(errors.AudioTooLarge, match="limit"):
        decode_audio(b"RIFF" + bytes(5000), max_bytes=1000)


def test_error_types_carry_http_status_and_code() -> None:
    assert issubclass(errors.NoSpeech, errors.AudioError)
    assert errors.AudioTooLarge.http_status == 413 and errors.UndecodableAudio.http_status == 415
    assert errors.EmptyAudio.http_status == 422 and errors.TTSUnavailable.http_status == 503
    codes = {cls.code for cls in vars(errors).values() if isinstance(cls, type) and issubclass(cls, Exception)}
    assert len(codes) == len([c for c in vars(errors).values() if isinstance(c, type) and issubclass(c, Exception)])


class _NeverCalled(Recognizer):
    """Silence must be rejected by VAD before any model runs."""

    backend = "none"
    multilingual = False

    def __init__(self) -> None:
        pass

    def _window(self, audio, options):  # type: ignore[no-untyped-def]
        raise AssertionError("the recognizer must not run on silence")

    _long = _window


@pytest.mark.parametrize("audio", [silence(3.0), tone(2.0) * 0.0 + 0.001, np.random.default_rng(0)
                                   .standard_normal(SAMPLE_RATE * 2).astype(np.float32) * 0.003],
                         ids=["digital-silence", "dc-offset", "room-noise"])
def test_silence_is_no_speech(audio: np.ndarray, settings: Settings) -> None:
    with pytest.raises(errors.NoSpeech):
        transcribe(to_wav(audio), settings=settings, recognizer=_NeverCalled())


def test_streaming_resampler_matches_one_shot_length() -> None:
    resample = Resampler()
    pcm = (tone(1.0, rate=44_100) * 32767).astype(np.int16)
    out = np.concatenate([resample.pcm(pcm[i : i + 1000], 44_100) for i in range(0, pcm.size, 1000)])
    assert abs(out.size - SAMPLE_RATE) < 400  # the filter's delay stays inside it until flushed
