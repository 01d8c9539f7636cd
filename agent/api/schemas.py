"""Request and response models of the public API (what integrators see in the OpenAPI docs)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

AwaitingField = Literal[
    "identity", "order_id", "items", "payment_method", "confirmation", "reason", "address", "none"
]


class ErrorResponse(BaseModel):
    """Every 4xx (and 503) answer: a code to branch on and a reason to show a person."""

    error: str = Field(description="Machine-readable error code.", examples=["bad_message"])
    reason: str = Field(description="What was wrong, for a person.", examples=["the message is empty"])
    detail: list[dict[str, Any]] | None = Field(
        default=None, description="For invalid requests (422): each failed field, as pydantic reports it."
    )


_ERROR_TEXTS: dict[int, str] = {
    400: "The request cannot be handled as sent.",
    401: "No valid API key (or publishable key), or an invalid/expired `X-Shopper-Token`. "
    "A server with no keys configured answers loopback clients only.",
    403: "The key may not be used here: a publishable key from an origin not on the allowlist, a publishable key "
    "on a platform-only route, or a shopper token for another shopper than the conversation serves.",
    404: "No such conversation (or other record).",
    409: "The request conflicts with the shop's state or policy (e.g. an order that can no longer change).",
    413: "The body or upload is larger than the limit.",
    415: "The body's media type is not one this route takes (JSON routes take `application/json`).",
    422: "The body or a parameter is invalid (empty or too-long message, malformed JSON, missing field).",
    429: "Too many requests from this address; retry after `Retry-After` seconds.",
    503: "The service is still loading its models; retry after `Retry-After` seconds (see `/ready`).",
}


def error_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for these error statuses, all shaped as :class:`ErrorResponse`."""
    return {code: {"model": ErrorResponse, "description": _ERROR_TEXTS[code]} for code in statuses}


class ConversationCreated(BaseModel):
    conversation_id: str = Field(description="Name this id in every later call of the conversation.")
    authenticated: bool = Field(
        default=False, description="A valid `X-Shopper-Token` came: the conversation already knows its shopper."
    )


class MessageIn(BaseModel):
    text: str = Field(description="What the shopper typed.", examples=["Where is my order #W2611340?"])


class Card(BaseModel):
    """A product the reply recommends; all fields come from the store."""

    product_id: str
    item_id: str | None = Field(description="The variant, when one is meant.")
    name: str
    variant: str = Field(description="The variant's options, e.g. `color: red, size: M`.")
    price: str = Field(description="Formatted price, e.g. `$54.04`.")
    image_url: str | None
    reason: str = Field(description="Why it is recommended, for the shopper.")


class Action(BaseModel):
    """A store operation this turn performed or was refused."""

    name: str = Field(description="The store operation, e.g. `cancel_pending_order`.")
    arguments: dict[str, Any]
    ok: bool = Field(description="False: the store refused; `detail` says why.")
    detail: str = ""


class Reply(BaseModel):
    """The agent's answer to one shopper message."""

    conversation_id: str
    text: str = Field(description="The reply, in natural language.")
    awaiting: AwaitingField = Field(description="What the agent needs next from the shopper.")
    intent: str | None = Field(default=None, description="What the agent understood the message to ask.")
    transcript: str | None = Field(default=None, description="What was heard, for voice turns.")
    cards: list[Card] = []
    actions: list[Action] = []
    handoff: bool = Field(default=False, description="The conversation was passed to a human.")
    timings: dict[str, float] = Field(default={}, description="Seconds spent per stage of the turn.")


class HistoryMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class History(BaseModel):
    conversation_id: str
    messages: list[HistoryMessage] = Field(description="Oldest first.")
