"""Spoken and photo input: a voice upload, a live microphone over WebSocket, a photo search.

Live voice protocol (``/v1/conversations/{id}/voice/stream``, one WebSocket per conversation):

* the widget's publishable key, if any, goes in the ``key`` query parameter (browsers cannot set
  headers on a WebSocket); refusals arrive as an ``error`` event, then a close code 4000 + HTTP status.
* client → server: binary frames of little-endian 16-bit mono PCM at ``rate`` Hz (query parameter,
  default 16000; any chunk size), and optionally the text frame ``{"type": "end"}`` ("I stopped
  talking": ends the open turn at once and closes).
* server → client: JSON text frames ``{"type": kind, "data": …}`` where kind is ``speech_start``,
  ``transcript``, then the conversation's reply events (``text_delta``, ``text_reset``, ``card``,
  ``action``, ``handoff``, ``awaiting``, ``done`` — as over SSE), and ``error`` (``data`` =
  ``{error, reason}``: a turn with no words keeps listening). With ``speak=true`` the reply's speech
  follows ``done`` as ``{"type": "audio", "data": {"format": "wav", "bytes": n}}`` and one binary WAV frame.

The end of a turn is found by the project's VAD on audio time (:class:`~shopagent.speech.stream.TurnStream`):
0.5 s of silence after speech, or the client going quiet for ``idle_timeout_s``.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, HTTPException, Query, UploadFile, WebSocket, WebSocketDisconnect
from fastapi.encoders import jsonable_encoder
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from shopagent.agent.agents import CLIENT_ERRORS, ShopAgent
from shopagent.agent.api.deps import get_agent, get_runtime
from shopagent.agent.api.routes.conversations import ERRORS
from shopagent.agent.api.schemas import ErrorResponse, Reply
from shopagent.agent.api.security import CONVERSATION_GUARDS, api_key, bearer, caller, get_access, publishable_key
from shopagent.agent.answers import catalog_variants
from shopagent.agent.build import ITEM_IMAGE_PATH, transcribe_options
from shopagent.agent.runtime import Runtime
from shopagent.agent.turn import TurnInput
from shopagent.speech.errors import AudioTooLarge

router = APIRouter(tags=["voice and photos"])
MAX_FRAME_BYTES = 1 << 20  # one microphone chunk; browsers send a few KiB every ~100 ms
POLL_S = 0.25  # how often a quiet socket checks whether the client stopped sending mid-turn
IDLE_CLOSE_S = 120.0  # a socket that sends nothing this long is closed (an open mic sends ~10 frames/s)


class VoiceReply(Reply):
    audio_wav_base64: str | None = Field(default=None, description="The reply spoken (WAV), when asked and available.")


def _error(status: int, code: str, reason: str) -> JSONResponse:
    return JSONResponse({"error": code, "reason": reason}, status_code=status)


async def _read_limited(upload: UploadFile, limit: int) -> bytes:
    data = await upload.read(limit + 1)
    if len(data) > limit:
        raise AudioTooLarge(f"the upload is larger than {limit} bytes")
    return data


@router.post(
    "/v1/conversations/{conversation_id}/voice",
    response_model=VoiceReply,
    responses=ERRORS,
    dependencies=CONVERSATION_GUARDS,
    summary="Send a spoken message (wav, flac, mp3, ogg/opus, webm, m4a); get transcript and reply.",
)
async def post_voice(
    conversation_id: str,
    audio: Annotated[UploadFile, File(description="The recording.")],
    agent: Annotated[ShopAgent, Depends(get_agent)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    speak: Annotated[bool, Form(description="Also return the reply as speech.")] = False,
) -> Any:
    data = await _read_limited(audio, runtime.settings.max_upload_bytes)
    agent.shop.existing_session(conversation_id)
    result = await run_in_threadpool(agent.handle, TurnInput(conversation_id=conversation_id, audio=data))
    reply = VoiceReply.model_validate(result.to_dict())
    wav = await _speech(runtime, reply.text) if speak else None
    reply.audio_wav_base64 = base64.b64encode(wav).decode() if wav else None
    return reply


async def _speech(runtime: Runtime, text: str) -> bytes | None:
    """The reply spoken by Piper, or None when spoken replies are not installed."""
    voice = runtime.components.get("speech:voice")
    return await run_in_threadpool(voice.synthesize, text) if voice is not None and text else None


@router.websocket("/v1/conversations/{conversation_id}/voice/stream")
async def voice_stream(
    websocket: WebSocket,
    conversation_id: str,
    rate: Annotated[int, Query(ge=8000, le=96_000, description="Sample rate of the PCM frames.")] = 16_000,
    speak: Annotated[bool, Query(description="Send each reply as speech too.")] = False,
) -> None:
    """Live voice turns; the protocol is in this module's docstring."""
    from shopagent.speech.stream import TurnStream

    await websocket.accept()  # first, so that a refusal can say why (browsers see no HTTP status)
    try:
        caller(websocket, get_access(websocket), await bearer(websocket), await api_key(websocket),
               await publishable_key(websocket))
    except HTTPException as exc:
        return await _refuse(websocket, 4000 + exc.status_code, "unauthorized", str(exc.detail))
    runtime: Runtime = websocket.app.state.runtime
    agent: ShopAgent | None = runtime.components.get("agent")
    recognizer = runtime.components.get("speech:recognizer")
    try:
        if agent is None or recognizer is None:
            return await _refuse(websocket, 1013, "not_ready", "voice is still loading; see /ready")
        try:
            agent.shop.existing_session(conversation_id)
        except CLIENT_ERRORS as exc:
            return await _refuse(websocket, 1008, getattr(exc, "code", "bad_request"), str(exc))
        options = transcribe_options(await run_in_threadpool(catalog_variants, agent.shop.engine))
        stream = TurnStream(settings=runtime.settings, recognizer=recognizer, options=options, sample_rate=rate)
        quiet = 0.0
        while True:
            try:
                message = await asyncio.wait_for(websocket.receive(), POLL_S)
            except TimeoutError:
                quiet += POLL_S
                if quiet >= IDLE_CLOSE_S:
                    return await _refuse(websocket, 1000, "idle", f"nothing received for {IDLE_CLOSE_S:.0f} s")
                events = await run_in_threadpool(stream.poll)
            else:
                quiet = 0.0
                if message["type"] == "websocket.disconnect":
                    return
                if message.get("bytes") is not None:
                    if len(message["bytes"]) > MAX_FRAME_BYTES:
                        return await _refuse(websocket, 1009, "too_large", f"audio frames are limited to {MAX_FRAME_BYTES} bytes")
                    events = await run_in_threadpool(stream.feed, message["bytes"])
                elif _is_end(message.get("text")):
                    for event in await run_in_threadpool(stream.close):
                        await _turn(websocket, runtime, agent, conversation_id, event, speak)
                    return await websocket.close()
                else:
                    return await _refuse(websocket, 1003, "bad_frame", 'send PCM16 binary frames or {"type": "end"}')
            for event in events:
                await _turn(websocket, runtime, agent, conversation_id, event, speak)
    except WebSocketDisconnect:
        return


def _is_end(text: str | None) -> bool:
    try:
        return json.loads(text or "").get("type") == "end"
    except (ValueError, AttributeError):
        return False


async def _refuse(websocket: WebSocket, code: int, error: str, reason: str) -> None:
    await _send(websocket, "error", {"error": error, "reason": reason})
    await websocket.close(code=code, reason=reason[:120])


async def _send(websocket: WebSocket, kind: str, data: Any) -> None:
    await websocket.send_text(json.dumps({"type": kind, "data": jsonable_encoder(data)}))


async def _turn(websocket: WebSocket, runtime: Runtime, agent: ShopAgent, conversation_id: str,
                event: Any, speak: bool) -> None:
    """Report one stream event; an ended turn runs through the agent and its reply streams back."""
    if event.kind == "speech_start":
        return await _send(websocket, "speech_start", {"at": event.at})
    if event.error is not None:
        return await _send(websocket, "error", {"error": event.error.code, "reason": str(event.error)})
    text = event.transcript.text
    await _send(websocket, "transcript", text)
    turn: Iterator[Any] = agent.stream(TurnInput(conversation_id=conversation_id, text=text))
    reply = ""
    try:
        while (step := await run_in_threadpool(next, turn, None)) is not None:
            await _send(websocket, step.kind, step.data)
            reply = step.data.text if step.kind == "done" else reply
    except CLIENT_ERRORS as exc:  # e.g. a transcript longer than a message may be
        return await _send(websocket, "error", {"error": getattr(exc, "code", "bad_request"), "reason": str(exc)})
    finally:
        turn.close()  # a client gone mid-reply: release the conversation's turn lock now
    wav = await _speech(runtime, reply) if speak else None
    if wav:
        await _send(websocket, "audio", {"format": "wav", "bytes": len(wav)})
        await websocket.send_bytes(wav)


@router.post(
    "/v1/conversations/{conversation_id}/photo",
    response_model=Reply,
    responses={**ERRORS, 503: {"model": ErrorResponse}},
    dependencies=CONVERSATION_GUARDS,
    summary="Send a photo; get products that look like it (cards, best first).",
    description="Multipart field `image` (JPEG, PNG, WebP, GIF…). Needs the product photos indexed "
    "(`shopagent index`); until then 503.",
)
async def post_photo(
    conversation_id: str,
    image: Annotated[UploadFile, File(description="A photo of what the shopper is looking for.")],
    agent: Annotated[ShopAgent, Depends(get_agent)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> Any:
    from shopagent.agent.availability import SearchUnavailable
    from shopagent.fusion.image import ImageError, ImageTooLarge
    from shopagent.retrieval.search import PhotosNotIndexed

    data = await _read_limited(image, runtime.settings.max_upload_bytes)
    agent.shop.existing_session(conversation_id)
    if runtime.components.get("search") is None:
        return _error(503, "search_unavailable", "product search is not loaded; see /ready")
    try:
        result = await run_in_threadpool(agent.handle, TurnInput(conversation_id=conversation_id, image=data))
    except ImageTooLarge as exc:
        return _error(413, "image_too_large", exc.reason)
    except ImageError as exc:
        return _error(415, "bad_image", exc.reason)
    except PhotosNotIndexed as exc:
        return _error(503, "photos_not_indexed", str(exc))
    except SearchUnavailable:
        return _error(503, "search_unavailable", "the product index cannot be reached right now; try again shortly")
    return Reply.model_validate(result.to_dict())


@router.get(
    ITEM_IMAGE_PATH,
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, 404: {"model": ErrorResponse}},
    summary="A variant's photo (the shop's own, or drawn from its visual attributes); product cards link here.",
    description="Public, like the shop's catalog: an `<img>` cannot send a key.",
)
async def item_image(item_id: str, agent: Annotated[ShopAgent, Depends(get_agent)],
                     runtime: Annotated[Runtime, Depends(get_runtime)]) -> Response:
    photo = await run_in_threadpool(_photo_of, agent, runtime, item_id)
    if photo is None:
        return _error(404, "not_found", "no such item")
    if photo.startswith(("http://", "https://")):
        return RedirectResponse(photo)
    if not Path(photo).is_file():
        return _error(404, "not_found", "the item's photo file is missing")
    return FileResponse(photo, headers={"Cache-Control": "public, max-age=3600"})


def _photo_of(agent: ShopAgent, runtime: Runtime, item_id: str) -> str | None:
    from shopagent.agent.search import PHOTO_DIR, variant_photo
    from shopagent.agent.store.db import transaction
    from shopagent.agent.store.schema import Variant

    with transaction(agent.shop.engine) as db:
        variant = db.get(Variant, item_id)
        if variant is None:
            return None
        return variant_photo(variant.product, variant, runtime.settings.data_dir / PHOTO_DIR)
