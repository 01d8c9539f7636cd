"""Live voice over WebSocket and the photo endpoints, against the running service on loopback.

A real spoken WAV is streamed as a microphone would send it (16-bit PCM in ~100 ms chunks, faster
than real time); the server's VAD must find the end of the turn by itself.
"""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from shopagent.speech.tts import piper_installed

from .conftest import WIDGET_KEY, Server

pytestmark = pytest.mark.slow  # a real server with every model loaded

CHUNK = 3200  # bytes: 100 ms of 16 kHz PCM16


def new_conversation(server: Server) -> str:
    response = httpx.post(f"{server.url}/v1/conversations", headers=server.widget)
    assert response.status_code == 201, response.text
    return response.json()["conversation_id"]


def open_socket(server: Server, conversation_id: str, query: str = "", key: str | None = WIDGET_KEY, **options: Any) -> Any:
    """The voice socket as the widget opens it: key in the query (browsers set no headers there), page Origin."""
    params = "&".join(p for p in (query.lstrip("?"), f"key={key}" if key else "") if p)
    url = server.url.replace("http", "ws", 1) + f"/v1/conversations/{conversation_id}/voice/stream?{params}"
    return connect(url, origin=server.url, **options)


def pcm_of(wav_path: Path) -> tuple[bytes, int]:
    with wave.open(str(wav_path)) as wav:
        assert wav.getsampwidth() == 2 and wav.getnchannels() == 1
        return wav.readframes(wav.getnframes()), wav.getframerate()


def events_until(socket: Any, last: str) -> list[tuple[str, Any]]:
    """Text events (and binary frames as ``("binary", bytes)``) up to and including ``last``."""
    seen: list[tuple[str, Any]] = []
    while not seen or seen[-1][0] != last:
        frame = socket.recv(timeout=120)
        if isinstance(frame, bytes):
            seen.append(("binary", frame))
        else:
            event = json.loads(frame)
            seen.append((event["type"], event["data"]))
    return seen


def test_streamed_wav_gets_transcript_reply_and_speech(server: Server, spoken_wav: Path) -> None:
    pcm, rate = pcm_of(spoken_wav)
    cid = new_conversation(server)
    with open_socket(server, cid, f"rate={rate}&speak=true") as socket:
        for start in range(0, len(pcm), CHUNK - 1):  # odd sizes: chunks split samples
            socket.send(pcm[start:start + CHUNK - 1])
        events = events_until(socket, "done")
        kinds = [kind for kind, _ in events]
        assert kinds[:2] == ["speech_start", "transcript"], kinds
        assert "return" in events[1][1].lower(), events[1][1]
        assert "text_delta" in kinds and kinds[-2:] == ["awaiting", "done"], kinds
        done = events[-1][1]
        assert done["awaiting"] == "identity" and done["text"]
        if piper_installed():  # spoken replies are an optional extra; the default install has it
            audio = events_until(socket, "binary")
            assert audio[0][0] == "audio" and audio[0][1]["format"] == "wav"
            assert audio[-1][1][:4] == b"RIFF" and len(audio[-1][1]) == audio[0][1]["bytes"]
        socket.send(json.dumps({"type": "end"}))
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=30)
    history = httpx.get(f"{server.url}/v1/conversations/{cid}/messages", headers=server.widget).json()["messages"]
    assert [m["role"] for m in history] == ["user", "assistant"]
    assert history[0]["content"] == events[1][1]


def test_end_message_finishes_a_turn_cut_short(server: Server, spoken_wav: Path) -> None:
    pcm, rate = pcm_of(spoken_wav)
    speech_end = int(rate * 2.4) * 2  # stop mid-utterance, before any trailing silence
    with open_socket(server, new_conversation(server), f"rate={rate}") as socket:
        socket.send(pcm[:speech_end])
        socket.send(json.dumps({"type": "end"}))
        kinds = [kind for kind, _ in events_until(socket, "done")]
        assert "transcript" in kinds and "audio" not in kinds  # speech only when asked
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=30)


def test_silence_starts_no_turn(server: Server) -> None:
    with open_socket(server, new_conversation(server)) as socket:
        for _ in range(20):
            socket.send(bytes(CHUNK))
        socket.send(json.dumps({"type": "end"}))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1000


@pytest.mark.parametrize("conversation,key,frame,code,error", [
    ("unknown-conversation", WIDGET_KEY, None, 1008, "not_found"),
    (None, None, None, 4401, "unauthorized"),
    (None, "pk-guessed", None, 4401, "unauthorized"),
    (None, WIDGET_KEY, "hello", 1003, "bad_frame"),
    (None, WIDGET_KEY, b"\0" * ((1 << 20) + 2), 1009, "too_large"),
], ids=["unknown-conversation", "no-key", "wrong-key", "text-frame", "oversized-frame"])
def test_bad_socket_input_is_refused_with_a_reason(server: Server, conversation: str | None, key: str | None,
                                                   frame: Any, code: int, error: str) -> None:
    with open_socket(server, conversation or new_conversation(server), key=key, max_size=None) as socket:
        if frame is not None:
            socket.send(frame)
        event = json.loads(socket.recv(timeout=30))
        with pytest.raises(ConnectionClosed) as closed:
            socket.recv(timeout=30)
    assert event["type"] == "error" and event["data"]["error"] == error and event["data"]["reason"]
    assert closed.value.rcvd.code == code


def test_card_photos_are_served(server: Server) -> None:
    item_id = min(item for product in server.snapshot()["products"].values() for item in product["variants"])
    response = httpx.get(f"{server.url}/v1/items/{item_id}/image")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    from PIL import Image

    assert Image.open(io.BytesIO(response.content)).size[0] > 32
    missing = httpx.get(f"{server.url}/v1/items/no-such-item/image")
    assert missing.status_code == 404 and missing.json()["reason"]


@pytest.mark.parametrize("upload,status", [
    (("notes.txt", b"this is not a picture", "text/plain"), 415),
    (("empty.png", b"", "image/png"), 415),
], ids=["not-an-image", "empty"])
def test_bad_photos_are_a_clear_4xx(server: Server, upload: tuple, status: int) -> None:
    response = httpx.post(f"{server.url}/v1/conversations/{new_conversation(server)}/photo", files={"image": upload},
                          headers=server.widget)
    assert response.status_code == status, response.text
    assert response.json()["reason"]
    unknown = httpx.post(f"{server.url}/v1/conversations/nope/photo", files={"image": upload}, headers=server.widget)
    assert unknown.status_code == 404
