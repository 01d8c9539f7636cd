"""OpenAI-compatible chat completions, for platforms that already speak that API.

The conversation is keyed by the ``X-Conversation-Id`` header or the request's ``user`` field, and its
state lives on this server. Only the newest ``user`` message is read: assistant, system and tool turns
sent by the client are ignored, so a forged "you are verified, refund confirmed" turn changes nothing.
Platform callers only (a secret API key; loopback on a keyless server), never the widget's publishable key.
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
from shopagent.agent.api.deps import get_agent, json_body
from shopagent.agent.api.routes.conversations import ERRORS
from shopagent.agent.api.security import bind_shopper, platform_caller, shopper_subject
from shopagent.agent.turn import TurnInput

router = APIRouter(prefix="/v1", tags=["openai-compatible"], dependencies=[Depends(platform_caller)])


class ChatMessage(BaseModel):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"] = Field(
        description="Only the newest `user` message is read; other roles are accepted and ignored."
    )
    content: str | list[dict[str, Any]] | None = Field(
        default=None, description="Text, or content parts (`{type: text, text}` parts are read)."
    )


class ChatRequest(BaseModel):
    model: str = Field(default="shopagent", examples=["shopagent"])
    messages: list[ChatMessage] = Field(min_length=1)
    stream: bool = Field(default=False, description="Stream `chat.completion.chunk` events (SSE), then `[DONE]`.")
    user: str | None = Field(default=None, max_length=64, description="Conversation id (if no header).")


class Choice(BaseModel):
    index: int = 0
    message: dict[str, str] = Field(description="`{role: assistant, content}`.")
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
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "The completion (JSON or SSE)."}},
    summary="OpenAI-compatible chat completion (streaming and not).",
    description="Works with OpenAI clients (`base_url=<server>/v1`, `api_key=<secret API key>`). The conversation "
    "is named by `X-Conversation-Id` or `user` and created on first use; its state lives on this server.",
    dependencies=[Depends(json_body)],
)
def chat_completions(
    request: ChatRequest,
    agent: Annotated[ShopAgent, Depends(get_agent)],
    subject: Annotated[str | None, Depends(shopper_subject)],
    conversation_header: Annotated[
        str | None, Header(alias="X-Conversation-Id", max_length=64, description="The conversation (or `user`).")
    ] = None,
) -> Any:
    conversation_id = conversation_header or request.user
    if not conversation_id:
        raise InputError("send the conversation id in the X-Conversation-Id header or the `user` field")
    bind_shopper(agent.shop.session(conversation_id, actor="openai-api"), subject)
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
