"""Test audio helpers: silence, tones, and encoding into the containers users upload."""

from __future__ import annotations

import io

import av
import numpy as np

from shopagent.speech.audio import SAMPLE_RATE


def silence(seconds: float) -> np.ndarray:
    return np.zeros(int(seconds * SAMPLE_RATE), np.float32)


def encode(audio: np.ndarray, container: str, codec: str, rate: int = 44_100, channels: int = 2) -> bytes:
    """Encode 16 kHz mono audio into ``container``/``codec`` at ``rate`` with ``channels`` (via PyAV)."""
    buf = io.BytesIO()
    layout = "stereo" if channels == 2 else "mono"
    with av.open(buf, "w", format=container) as out:
        stream = out.add_stream(codec, rate=rate, layout=layout)
        to_codec = av.AudioResampler(format=stream.codec_context.format.name, layout=layout, rate=rate)
        planes = np.repeat(audio.astype(np.float32)[None], channels, axis=0)  # the same signal per channel
        frame = av.AudioFrame.from_ndarray(planes, format="fltp", layout=layout)
        frame.sample_rate = SAMPLE_RATE
        for converted in to_codec.resample(frame) + to_codec.resample(None):
            converted.pts = None
            for packet in stream.encode(converted):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()


FORMATS = [  # (container, codec, rate): what browsers, phones and desktop recorders upload
    ("wav", "pcm_s16le", 44_100),
    ("flac", "flac", 48_000),
    ("mp3", "libmp3lame", 44_100),
    ("ogg", "libopus", 48_000),
    ("webm", "libopus", 48_000),
    ("ipod", "aac", 44_100),  # .m4a
]


def tone(seconds: float, rate: int = SAMPLE_RATE, amplitude: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    return (amplitude * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
