"""Voice turns: upload a recording, get the transcript and the reply (and optionally spoken audio)."""

from __future__ import annotations

import base64
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, UploadFile
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from shopagent.agent.agents import ShopAgent
from shopagent.agent.api.deps import get_agent, get_runtime
from shopagent.agent.api.routes.conversations import ERRORS
from shopagent.agent.api.schemas import Reply
from shopagent.agent.runtime import Runtime
from shopagent.agent.turn import TurnInput
from shopagent.speech.errors import AudioTooLarge

router = APIRouter(prefix="/v1/conversations", tags=["voice"])


class VoiceReply(Reply):
    audio_wav_base64: str | None = Field(default=None, description="The reply spoken (WAV), when asked and available.")


@router.post(
    "/{conversation_id}/voice",
    response_model=VoiceReply,
    responses=ERRORS,
    summary="Send a spoken message (wav, flac, mp3, ogg/opus, webm, m4a); get transcript and reply.",
)
async def post_voice(
    conversation_id: str,
    audio: Annotated[UploadFile, File(description="The recording.")],
    agent: Annotated[ShopAgent, Depends(get_agent)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
    speak: Annotated[bool, Form(description="Also return the reply as speech.")] = False,
) -> Any:
    limit = runtime.settings.max_upload_bytes
    data = await audio.read(limit + 1)
    if len(data) > limit:
        raise AudioTooLarge(f"the upload is larger than {limit} bytes")
    agent.shop.existing_session(conversation_id)
    result = await run_in_threadpool(agent.handle, TurnInput(conversation_id=conversation_id, audio=data))
    reply = VoiceReply.model_validate(result.to_dict())
    voice = runtime.components.get("speech:voice")
    if speak and voice is not None and reply.text:
        wav = await run_in_threadpool(voice.synthesize, reply.text)
        reply.audio_wav_base64 = base64.b64encode(wav).decode()
    return reply
