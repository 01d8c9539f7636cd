"""Conversations: create one, post a shopper message (JSON or SSE stream), read the history.

Each POST may carry an ``Idempotency-Key`` header: a retried request with the same key is answered
with the stored reply instead of running the turn again.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Iterator
from dataclasses import asdict, is_dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from sse_starlette.sse import EventSourceResponse

from shopagent.agent.agents import ShopAgent
from shopagent.agent.api.deps import get_agent
from shopagent.agent.api.schemas import ConversationCreated, ErrorResponse, History, MessageIn, Reply
from shopagent.agent.turn import TurnEvent, TurnInput

router = APIRouter(prefix="/v1/conversations", tags=["conversations"])
ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": ErrorResponse} for status in (400, 401, 403, 404, 409, 413, 415, 422, 429)
}
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retry-safe key: the same key returns the same reply."),
]


@router.post("", response_model=ConversationCreated, status_code=201, summary="Start a conversation.")
def create_conversation(agent: Annotated[ShopAgent, Depends(get_agent)]) -> ConversationCreated:
    conversation_id = uuid.uuid4().hex
    agent.shop.session(conversation_id, actor="api")
    return ConversationCreated(conversation_id=conversation_id)


@router.get("/{conversation_id}/messages", response_model=History, responses=ERRORS, summary="The conversation so far.")
def history(conversation_id: str, agent: Annotated[ShopAgent, Depends(get_agent)]) -> History:
    session = agent.shop.existing_session(conversation_id)
    return History(conversation_id=conversation_id, messages=session.messages())


@router.post(
    "/{conversation_id}/messages",
    response_model=Reply,
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "The reply (JSON or SSE events)."}},
    summary="Send a shopper message; get the reply.",
    description="With `Accept: text/event-stream` the reply streams as Server-Sent Events: `transcript`, "
    "`text_delta`, `text_reset` (replace what was shown), `card`, `action`, `handoff`, `awaiting`, `done`.",
)
def post_message(
    conversation_id: str,
    message: MessageIn,
    request: Request,
    agent: Annotated[ShopAgent, Depends(get_agent)],
    idempotency_key: IdempotencyKey = None,
) -> Any:
    session = agent.shop.existing_session(conversation_id)
    if idempotency_key and (stored := session.stored_reply(idempotency_key)) is not None:
        return stored
    turn = TurnInput(conversation_id=conversation_id, text=message.text)
    if "text/event-stream" in request.headers.get("accept", ""):
        events = agent.stream(turn)
        first = next(events)  # input errors surface as 4xx before the stream starts
        return EventSourceResponse(_sse(itertools.chain([first], events), session, idempotency_key))
    result = Reply.model_validate(agent.handle(turn).to_dict())
    if idempotency_key:
        session.store_reply(idempotency_key, result.model_dump())
    return result


def _sse(events: Iterator[TurnEvent], session: Any, key: str | None) -> Iterator[dict[str, str]]:
    for event in events:
        data = event.data.to_dict() if event.kind == "done" else _plain(event.data)
        if event.kind == "done" and key:
            session.store_reply(key, Reply.model_validate(data).model_dump())
        yield {"event": event.kind, "data": json.dumps(data)}


def _plain(value: Any) -> Any:
    return asdict(value) if is_dataclass(value) and not isinstance(value, type) else value
