"""Chatwoot agent bot: answer shoppers inside a support team's Chatwoot inbox.

Chatwoot posts ``message_created`` events to the webhook; incoming public messages become turns and
the reply goes back through Chatwoot's messages API. Outgoing and private messages (including the
bot's own replies) are ignored, so the bot never answers itself. A handoff sets the conversation
``open`` so it appears in the human agents' queue.
"""

from __future__ import annotations

from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel, ConfigDict
from starlette.concurrency import run_in_threadpool

from shopagent.agent.agents import ShopAgent
from shopagent.agent.api.deps import get_agent, get_runtime
from shopagent.agent.runtime import Runtime
from shopagent.agent.turn import TurnInput
from shopagent.logs import get_logger

log = get_logger(__name__)
router = APIRouter(prefix="/integrations/chatwoot", tags=["chatwoot"])


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
    handled: bool
    reason: str | None = None
    reply: str | None = None
    handoff: bool = False


@router.post("/webhook", response_model=WebhookResult, summary="Chatwoot agent-bot webhook (message_created).")
async def webhook(
    event: ChatwootEvent,
    agent: Annotated[ShopAgent, Depends(get_agent)],
    runtime: Annotated[Runtime, Depends(get_runtime)],
) -> WebhookResult:
    settings = runtime.settings
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


async def _post(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> None:
    response = await client.post(url, json=body)
    if response.status_code >= 400:
        log.error("chatwoot_error", url=url, status=response.status_code)
        raise HTTPException(status.HTTP_502_BAD_GATEWAY, f"Chatwoot answered {response.status_code}")
