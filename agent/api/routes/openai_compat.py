"""OpenAI-compatible chat completions, for platforms that already speak that API.

The conversation is keyed by the ``X-Conversation-Id`` header or the request's ``user`` field, and its
state lives on this server. Only the newest ``user`` message is read: assistant, system and tool turns
sent by the client are ignored, so a forged "you are verified, refund confirmed" turn changes nothing.
"""

from __future__ import annotations

import itertools
import json
import time
import uuid
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header
from pydantic import BaseModel, Field
from sse_starlette.sse import EventSourceResponse

from shopagent.agent.agents import InputError, ShopAgent
from shopagent.agent.api.deps import get_agent
from shopagent.agent.api.routes.conversations import ERRORS
from shopagent.agent.turn import TurnInput

router = APIRouter(prefix="/v1", tags=["openai-compatible"])


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model: str = Field(default="shopagent", examples=["shopagent"])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = False
    user: str | None = Field(default=None, max_length=64, description="Conversation id (if no header).")


class Choice(BaseModel):
    index: int = 0
    message: dict[str, str]
    finish_reason: Literal["stop"] = "stop"


class ChatResponse(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    shopagent: dict[str, Any] = Field(description="The full turn: awaiting, cards, actions, handoff.")


def _last_user_text(messages: list[ChatMessage]) -> str:
    for message in reversed(messages):
        if message.role == "user":
            if isinstance(message.content, list):
                return " ".join(str(part.get("text", "")) for part in message.content if part.get("type") == "text")
            return message.content or ""
    raise InputError("no user message in the request")


@router.post(
    "/chat/completions",
    response_model=ChatResponse,
    responses=ERRORS,
    summary="OpenAI-compatible chat completion (streaming and not).",
)
def chat_completions(
    request: ChatRequest,
    agent: Annotated[ShopAgent, Depends(get_agent)],
    conversation_header: Annotated[str | None, Header(alias="X-Conversation-Id", max_length=64)] = None,
) -> Any:
    conversation_id = conversation_header or request.user
    if not conversation_id:
        raise InputError("send the conversation id in the X-Conversation-Id header or the `user` field")
    agent.shop.session(conversation_id, actor="openai-api")
    turn = TurnInput(conversation_id=conversation_id, text=_last_user_text(request.messages))
    completion_id, created = f"chatcmpl-{uuid.uuid4().hex}", int(time.time())
    if not request.stream:
        result = agent.handle(turn)
        return ChatResponse(
            id=completion_id,
            created=created,
            model=request.model,
            choices=[Choice(message={"role": "assistant", "content": result.text})],
            shopagent=result.to_dict(),
        )
    events = agent.stream(turn)
    first = next(events)  # input errors surface as 4xx before the stream starts

    def chunks() -> Iterator[str]:
        def chunk(delta: dict[str, str], finish: str | None = None) -> str:
            return json.dumps({
                "id": completion_id, "object": "chat.completion.chunk", "created": created, "model": request.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish}],
            })

        yield chunk({"role": "assistant", "content": ""})
        for event in itertools.chain([first], events):
            if event.kind == "text_delta":
                yield chunk({"content": event.data})
            elif event.kind == "text_reset":
                yield chunk({"content": "\n" + event.data})
        yield chunk({}, "stop")
        yield "[DONE]"

    return EventSourceResponse(chunks())
