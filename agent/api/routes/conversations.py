"""Conversations: create one, post a shopper message (JSON or SSE stream), read the history.

Each POST may carry an ``Idempotency-Key`` header: a retried request with the same key is answered
with the stored reply instead of running the turn again. Every route takes any allowed caller
(platform key, widget key, or loopback on a keyless server) and an optional signed shopper token.
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
from shopagent.agent.api.deps import get_agent, json_body
from shopagent.agent.api.schemas import ConversationCreated, History, MessageIn, Reply, error_responses
from shopagent.agent.api.security import CONVERSATION_GUARDS, bind_shopper, shopper_subject
from shopagent.agent.turn import TurnEvent, TurnInput

router = APIRouter(prefix="/v1/conversations", tags=["conversations"], dependencies=CONVERSATION_GUARDS)
# The errors any conversation route can answer (other routers reuse this table).
ERRORS = error_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 503)
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=200, description="Retry-safe key: the same key returns the same reply."),
]
SSE_EVENTS = (
    "With `Accept: text/event-stream` the reply streams as Server-Sent Events, each `data` JSON: "
    "`transcript` (voice), `text_delta` (text to append), `text_reset` (replace what was shown), `card` "
    "(a product card), `action` (a store operation), `handoff` (`{conversation_id}`: a human takes over; "
    "stop sending turns), `awaiting` (what the agent needs next), `done` (the whole reply, as the JSON answer)."
)


@router.post(
    "",
    response_model=ConversationCreated,
    status_code=201,
    responses=ERRORS,
    summary="Start a conversation.",
    description="Returns the id to name in later calls. With a valid `X-Shopper-Token` the conversation is "
    "authenticated as that shopper at once (no email or zip code asked).",
)
def create_conversation(
    agent: Annotated[ShopAgent, Depends(get_agent)],
    subject: Annotated[str | None, Depends(shopper_subject)],
) -> ConversationCreated:
    conversation_id = uuid.uuid4().hex
    bind_shopper(agent.shop.session(conversation_id, actor="api"), subject)
    return ConversationCreated(conversation_id=conversation_id, authenticated=subject is not None)


@router.get(
    "/{conversation_id}/messages",
    response_model=History,
    responses=ERRORS,
    summary="The conversation so far.",
    description="The shopper's messages and the agent's replies, oldest first.",
)
def history(conversation_id: str, agent: Annotated[ShopAgent, Depends(get_agent)]) -> History:
    session = agent.shop.existing_session(conversation_id)
    return History(conversation_id=conversation_id, messages=session.messages())


@router.post(
    "/{conversation_id}/messages",
    response_model=Reply,
    responses={**ERRORS, 200: {"content": {"text/event-stream": {}}, "description": "The reply (JSON or SSE events)."}},
    summary="Send a shopper message; get the reply.",
    description=SSE_EVENTS,
    dependencies=[Depends(json_body)],
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
