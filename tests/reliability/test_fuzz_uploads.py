"""Hostile uploads on the voice and photo endpoints: every one gets a clear 4xx, and the server's
memory stays bounded (the service runs in this process, so its RSS is this process's).

Inputs are generated deterministically: random bytes, truncated WAV/MP3/PNG/JPEG, headers declaring
huge dimensions or lengths (decompression bombs), files of the wrong kind, oversized bodies, and
bodies that are not the multipart upload the endpoint takes.
"""

from __future__ import annotations

import io
import random
import struct
import wave
import zlib
from collections.abc import Iterator

import av
import numpy as np
import psutil
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from shopagent.agent.api.app import create_app
from shopagent.agent.build import build_agent
from shopagent.agent.intents import IntentClassifier
from shopagent.agent.search import warm_searcher
from shopagent.agent.store.shop import Shop
from shopagent.settings import Settings

KEY = "fuzz-platform-key-0123456789abcdef"
MAX_UPLOAD = 2_000_000
RSS_GROWTH_BOUND = 300 * 2**20  # what the whole fuzz run may add to the server's resident memory
rng = random.Random(8)


def wav(seconds: float, rate: int = 16000) -> bytes:
    samples = (np.sin(np.arange(int(seconds * rate)) / 7) * 6000).astype(np.int16)
    out = io.BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1), w.setsampwidth(2), w.setframerate(rate), w.writeframes(samples.tobytes())
    return out.getvalue()


def mp3(seconds: float, rate: int = 16000) -> bytes:
    out = io.BytesIO()
    with av.open(out, "w", format="mp3") as container:
        stream = container.add_stream("mp3", rate=rate)
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(np.frombuffer(wav(seconds, rate)[44:], np.int16)[None, :], format="s16",
                                           layout="mono")
        frame.sample_rate = rate
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    return out.getvalue()


def picture(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(3).integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(out, fmt)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_bomb(width: int, height: int) -> bytes:
    """A tiny PNG whose header declares ``width``×``height`` pixels (all zeros, deflated)."""
    rows = zlib.compressobj(9)
    body = b"".join(rows.compress(b"\0" * (width // 8 + 1)) for _ in range(min(height, 2000))) + rows.flush()
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", body) + _chunk(b"IEND", b"")


def jpeg_with_size(width: int, height: int) -> bytes:
    """A real JPEG whose frame header (SOF0) is patched to claim ``width``×``height``."""
    data = bytearray(picture("JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def wav_claiming(frames: int) -> bytes:
    """A WAV header that declares far more audio than follows."""
    data = bytearray(wav(0.2))
    data[40:44] = struct.pack("<I", frames)
    return bytes(data)


AUDIO_CASES = {
    "empty": b"",
    "random_1k": rng.randbytes(1024),
    "random_300k": rng.randbytes(300_000),
    "wav_header_only": wav(1)[:44],
    "wav_truncated": wav(2)[: len(wav(2)) // 3],
    "wav_claims_4gb": wav_claiming(0xFFFFFFF0),
    "wav_zero_rate": wav(0.5)[:24] + b"\0\0\0\0" + wav(0.5)[28:],
    "wav_too_long": wav(61, rate=8000),
    "mp3_truncated": mp3(2)[:300],
    "mp3_random_tail": mp3(1)[:200] + rng.randbytes(5000),
    "png_as_audio": picture("PNG"),
    "jpeg_as_audio": picture("JPEG"),
    "oversized": rng.randbytes(MAX_UPLOAD + 10),
}
IMAGE_CASES = {
    "empty": b"",
    "random_1k": rng.randbytes(1024),
    "random_300k": rng.randbytes(300_000),
    "png_truncated": picture("PNG")[:100],
    "jpeg_truncated": picture("JPEG")[:200],
    "png_bomb_50k_square": png_bomb(50_000, 50_000),
    "png_huge_width": png_bomb(2**31 - 1, 1),
    "jpeg_claims_65k_square": jpeg_with_size(65_000, 65_000),
    "gif_header_only": b"GIF89a" + struct.pack("<HH", 60_000, 60_000),
    "wav_as_image": wav(0.5),
    "mp3_as_image": mp3(0.5),
    "oversized": rng.randbytes(MAX_UPLOAD + 10),
}


@pytest.fixture
def client(shop: Shop, intents: IntentClassifier, agent_settings: Settings, recognizer: object,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = agent_settings.model_copy(update={
        "data_dir": tmp_path_factory.mktemp("fuzz"), "store_url": str(shop.engine.url), "api_keys": [KEY],
        "max_upload_bytes": MAX_UPLOAD})
    searcher = warm_searcher(settings)
    app = create_app(settings, warm_up=False)
    app.state.runtime.components.update(
        search=searcher,
        agent=build_agent(settings, shop=shop, intents=intents, chat_model=None, recognizer=recognizer,
                          searcher=searcher),
    )
    with TestClient(app, headers={"Authorization": f"Bearer {KEY}"}) as client:
        yield client


@pytest.mark.slow
def test_hostile_uploads_get_clear_4xx_and_memory_stays_bounded(client: TestClient) -> None:
    conversation = client.post("/v1/conversations").json()["conversation_id"]
    spoken = client.post(f"/v1/conversations/{conversation}/voice", files={"audio": ("ok.wav", wav(1), "audio/wav")})
    assert spoken.status_code in (200, 422)  # a real WAV (a tone: maybe "no speech") warms every stage up
    server = psutil.Process()
    baseline, peak = server.memory_info().rss, 0
    answers = {}
    for endpoint, field, cases in (("voice", "audio", AUDIO_CASES), ("photo", "image", IMAGE_CASES)):
        requests = {name: {"files": {field: (f"{name}.bin", data, "application/octet-stream")}}
                    for name, data in cases.items()}
        requests |= {  # not a multipart upload at all, or not in the expected field
            "json_body": {"json": {field: "UklGRg=="}},
            "raw_body": {"content": wav(0.5), "headers": {"Content-Type": "audio/wav"}},
            "wrong_field": {"files": {"file": ("x.png", picture("PNG"), "image/png")}},
        }
        for name, request in requests.items():
            response = client.post(f"/v1/conversations/{conversation}/{endpoint}", **request)
            answers[f"{endpoint}:{name}"] = (response.status_code, response.json())
            peak = max(peak, server.memory_info().rss)
    unclear = {case: answer for case, answer in answers.items()
               if not (400 <= answer[0] < 500 and answer[1].get("error") and answer[1].get("reason"))}
    assert not unclear
    assert {answers[f"{e}:oversized"][0] for e in ("voice", "photo")} == {413}
    assert answers["voice:wav_too_long"][0] == 413
    bombs = ("png_bomb_50k_square", "png_huge_width", "jpeg_claims_65k_square")
    assert {answers[f"photo:{name}"][0] for name in bombs} == {413}
    assert peak - baseline < RSS_GROWTH_BOUND, f"RSS grew by {(peak - baseline) / 2**20:.0f} MiB"
