"""Chatwoot agent bot: answer shoppers inside a support team's Chatwoot inbox.

Chatwoot posts ``message_created`` events to the webhook; incoming public messages become turns and
the reply goes back through Chatwoot's messages API. Outgoing and private messages (including the
bot's own replies) are ignored, so the bot never answers itself. A handoff sets the conversation
``open`` so it appears in the human agents' queue. With ``SHOPAGENT_CHATWOOT_WEBHOOK_SECRET`` set, a
delivery counts only when its ``X-Chatwoot-Signature`` (HMAC-SHA256 of ``"{timestamp}.{body}"``, Chatwoot
4.13+) matches and its ``X-Chatwoot-Timestamp`` is recent, so nobody else can make the bot talk.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from shopagent.agent.agents import ShopAgent
from shopagent.agent.api.deps import get_agent, get_runtime, json_body
from shopagent.agent.api.schemas import ErrorResponse, error_responses
from shopagent.agent.runtime import Runtime
from shopagent.agent.turn import TurnInput
from shopagent.logs import get_logger

log = get_logger(__name__)
router = APIRouter(prefix="/integrations/chatwoot", tags=["chatwoot"])
MAX_SKEW_S = 300  # how old a signed delivery may be: a captured one cannot be replayed later


class ChatwootRef(BaseModel):
    model_config = ConfigDict(extra="allow")
    id: int


class ChatwootEvent(BaseModel):
    """The parts of Chatwoot's webhook payload the bot reads; everything else is ignored."""

    model_config = ConfigDict(extra="allow")
    event: str
    content: str | None = None
    message_type: str | None = None
    private: bool = False
    conversation: ChatwootRef | None = None
    account: ChatwootRef | None = None


class WebhookResult(BaseModel):
    handled: bool = Field(description="False when the event was ignored (see `reason`).")
    reason: str | None = Field(default=None, description="Why the event was ignored.")
    reply: str | None = Field(default=None, description="What the bot posted back to the conversation.")
    handoff: bool = Field(default=False, description="The conversation was opened for human agents.")


@router.post(
    "/webhook",
    response_model=WebhookResult,
    responses={
        **error_responses(400, 404, 415, 422, 503),
        401: {"model": ErrorResponse, "description": "A webhook secret is set; the signature is missing or wrong."},
        502: {"model": ErrorResponse, "description": "Chatwoot's API refused the reply."},
    },
    summary="Chatwoot agent-bot webhook (message_created).",
    description="Set this URL as the agent bot's webhook. Incoming public messages are answered through "
    "Chatwoot's messages API; other events, outgoing and private messages are acknowledged and ignored. "
    "404 until `SHOPAGENT_CHATWOOT_URL` and `SHOPAGENT_CHATWOOT_TOKEN` are set.",
    dependencies=[Depends(json_body)],
)
async def webhook(
    request: Request,
    event: ChatwootEvent,
    agent: Annotated[ShopAgent, Depends(get_agent)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> WebhookResult:
    settings = runtime.settings
    if settings.chatwoot_webhook_secret is not None:
        _check_signature(request, await request.body(), settings.chatwoot_webhook_secret.get_secret_value())
    if not (settings.chatwoot_url and settings.chatwoot_token):
        raise HTTPException(status.HTTP_404_NOT_FOUND, "the Chatwoot integration is not configured")
    if event.event != "message_created":
        return WebhookResult(handled=False, reason=f"ignored event {event.event}")
    if event.message_type != "incoming" or event.private:
        return WebhookResult(handled=False, reason="ignored outgoing or private message")
    if event.conversation is None or event.account is None or not (event.content or "").strip():
        return WebhookResult(handled=False, reason="no conversation, account or text")
    conversation_id = f"chatwoot-{event.account.id}-{event.conversation.id}"
    agent.shop.session(conversation_id, actor="chatwoot")
    result = await run_in_threadpool(agent.handle, TurnInput(conversation_id=conversation_id, text=event.content))
    base = f"{settings.chatwoot_url.rstrip('/')}/api/v1/accounts/{event.account.id}/conversations/{event.conversation.id}"
    async with httpx.AsyncClient(headers={"api_access_token": settings.chatwoot_token}, timeout=10) as client:
        await _post(client, f"{base}/messages", {"content": result.text, "message_type": "outgoing", "private": False})
        if result.handoff:
            await _post(client, f"{base}/toggle_status", {"status": "open"})
    return WebhookResult(handled=True, reply=result.text, handoff=result.handoff)


def _check_signature(request: Request, body: bytes, secret: str) -> None:
    timestamp = request.headers.get("X-Chatwoot-Timestamp", "")
    if not timestamp.isdigit() or abs(time.time() - int(timestamp)) > MAX_SKEW_S:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "missing or stale X-Chatwoot-Timestamp")
    expected = "sha256=" + hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, request.headers.get("X-Chatwoot-Signature", "")):
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "X-Chatwoot-Signature does not match the secret")


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
    response = await client.post(url, json=body)
    if response.status_code >= 400:
        log.error("chatwoot_error", url=url, status=response.status_code)
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"Chatwoot answered {response.status_code}")
