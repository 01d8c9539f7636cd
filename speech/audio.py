"""Audio in: any container/codec as bytes → 16 kHz mono float32, within limits.

PyAV bundles the FFmpeg libraries, so wav, flac, mp3, ogg/opus, webm and m4a decode without a system
``ffmpeg`` binary (which ``whisper.load_audio`` would need). Limits are enforced while decoding, so an
over-long file stops being decoded at the limit instead of filling memory first.
"""

from __future__ import annotations

import io
import wave

import av
import numpy as np

from shopagent.speech.errors import (
    AudioTooLarge,
    AudioTooLong,
    EmptyAudio,
    TruncatedAudio,
    UndecodableAudio,
)

SAMPLE_RATE = 16_000

# A container may round its declared duration; only a clear shortfall counts as truncation.
_TRUNCATION_TOLERANCE_S = 0.25
_WAV_UNKNOWN_SIZE = 0x7FFF0000


class Resampler:
    """Streaming resampler to 16 kHz mono float32 (stateful: feed consecutive chunks in order).

    Channels are averaged here rather than by FFmpeg's downmix, which adds them at -3 dB each and so
    raises a centred stereo voice by 3 dB, enough to clip loud recordings.
    """

    def __init__(self) -> None:
        self._resampler = av.AudioResampler(format="fltp", rate=SAMPLE_RATE)

    def __call__(self, frame: av.AudioFrame | None) -> np.ndarray:
        """Resample one decoded frame; ``None`` flushes what the filter still holds."""
        if frame is not None:
            frame.pts = None  # timestamps with gaps would make the filter pad or drop samples
        out = [f.to_ndarray().mean(axis=0, dtype=np.float32) for f in self._resampler.resample(frame)]
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def pcm(self, samples: np.ndarray, rate: int) -> np.ndarray:
        """Resample a chunk of raw samples, shape ``(n,)`` or ``(n, channels)``, int16 or float."""
        samples = np.asarray(samples)
        if samples.ndim == 1:
            samples = samples[:, None]
        if samples.dtype == np.int16:
            samples = samples.astype(np.float32) / 32768.0
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        if rate == SAMPLE_RATE and samples.shape[1] == 1:
            return samples[:, 0]
        layout = {1: "mono", 2: "stereo"}.get(samples.shape[1])
        if layout is None:
            raise UndecodableAudio(f"raw audio with {samples.shape[1]} channels is not supported (use 1 or 2)")
        frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(samples.T), format="fltp", layout=layout)
        frame.sample_rate = rate
        return self(frame)


def decode_audio(data: bytes, *, max_seconds: float = 60.0, max_bytes: int | None = None) -> np.ndarray:
    """Decode an uploaded file to 16 kHz mono float32 in [-1, 1].

    Raises an :class:`~shopagent.speech.errors.AudioError` subclass for every bad input: empty,
    oversized, not audio, corrupt, truncated, or longer than ``max_seconds``.
    """
    if not data:
        raise EmptyAudio("the audio upload is empty (0 bytes)")
    if max_bytes is not None and len(data) > max_bytes:
        raise AudioTooLarge(f"the audio upload is {len(data):,} bytes; the limit is {max_bytes:,}")
    _check_wav_complete(data)
    try:
        container = av.open(io.BytesIO(data), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, ValueError, IndexError) as exc:
        raise UndecodableAudio(f"not a recognised audio file ({_reason(exc)})") from exc
    with container:
        if not container.streams.audio:
            raise UndecodableAudio("the file holds no audio stream")
        stream = container.streams.audio[0]
        declared = _declared_seconds(container, stream)
        if declared is not None and declared > max_seconds + 1.0:
            raise AudioTooLong(f"the audio is {declared:.1f} s long; the limit is {max_seconds:g} s")
        audio = _decode_stream(container, stream, int(max_seconds * SAMPLE_RATE), max_seconds)
    if audio.size == 0:
        raise EmptyAudio("the file is valid but contains no audio samples")
    if declared is not None and audio.size / SAMPLE_RATE < declared - _TRUNCATION_TOLERANCE_S:
        raise TruncatedAudio(
            f"the file declares {declared:.2f} s of audio but holds only {audio.size / SAMPLE_RATE:.2f} s "
            "(interrupted upload?)"
        )
    return audio


def _decode_stream(container: av.container.InputContainer, stream: av.AudioStream, limit: int,
                   max_seconds: float) -> np.ndarray:
    resample = Resampler()
    chunks: list[np.ndarray] = []
    decoded = 0
    try:
        for frame in container.decode(stream):
            chunk = resample(frame)
            chunks.append(chunk)
            decoded += chunk.size
            if decoded > limit:
                raise AudioTooLong(f"the audio is longer than the {max_seconds:g} s limit")
        chunks.append(resample(None))
    except av.FFmpegError as exc:
        if decoded == 0:
            raise UndecodableAudio(f"the audio could not be decoded ({_reason(exc)})") from exc
        raise UndecodableAudio(
            f"the audio is corrupt or cut off after {decoded / SAMPLE_RATE:.2f} s ({_reason(exc)})"
        ) from exc
    audio = np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    if audio.size > limit:
        raise AudioTooLong(f"the audio is longer than the {max_seconds:g} s limit")
    return np.clip(audio, -1.0, 1.0)


def _check_wav_complete(data: bytes) -> None:
    """FFmpeg sizes a wav by the bytes present, so a cut-off upload only shows in the RIFF header."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return
    pos = 12
    while pos + 8 <= len(data):
        chunk, size = data[pos : pos + 4], int.from_bytes(data[pos + 4 : pos + 8], "little")
        if chunk == b"data":
            # Streaming writers (espeak-ng, sox, ffmpeg to a pipe) put 0 or a value near 2 or 4 GiB
            # there because they do not know the length yet; that is not a truncation.
            if 0 < size < _WAV_UNKNOWN_SIZE and pos + 8 + size > len(data):
                raise TruncatedAudio(
                    f"the wav header declares {size:,} bytes of audio but only {len(data) - pos - 8:,} "
                    "arrived (interrupted upload?)"
                )
            return
        pos += 8 + size + (size & 1)


def _declared_seconds(container: av.container.InputContainer, stream: av.AudioStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _reason(exc: Exception) -> str:
    return getattr(exc, "strerror", None) or type(exc).__name__


def to_wav(audio: np.ndarray, sample_rate: int = SAMPLE_RATE) -> bytes:
    """16-bit PCM wav bytes of a float32 signal (for tests, the CLI and TTS round trips)."""
    pcm = (np.clip(audio, -1.0, 1.0) * 32767.0).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sample_rate)
        out.writeframes(pcm.tobytes())
    return buf.getvalue()
