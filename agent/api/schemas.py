"""Request and response models of the public API (what integrators see in the OpenAPI docs)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

AwaitingField = Literal[
    "identity", "order_id", "items", "payment_method", "confirmation", "reason", "address", "none"
]


class ErrorResponse(BaseModel):
    error: str = Field(description="Machine-readable error code.", examples=["bad_message"])
    reason: str = Field(description="What was wrong, for a person.", examples=["the message is empty"])


class ConversationCreated(BaseModel):
    conversation_id: str


class MessageIn(BaseModel):
    text: str = Field(description="What the shopper typed.", examples=["Where is my order #W2611340?"])


class Card(BaseModel):
    """A product the reply recommends; all fields come from the store."""

    product_id: str
    item_id: str | None
    name: str
    variant: str
    price: str
    image_url: str | None
    reason: str


class Action(BaseModel):
    """A store operation this turn performed or was refused."""

    name: str
    arguments: dict
    ok: bool
    detail: str = ""


class Reply(BaseModel):
    conversation_id: str
    text: str = Field(description="The reply, in natural language.")
    awaiting: AwaitingField = Field(description="What the agent needs next from the shopper.")
    intent: str | None = None
    transcript: str | None = Field(default=None, description="What was heard, for voice turns.")
    cards: list[Card] = []
    actions: list[Action] = []
    handoff: bool = Field(default=False, description="The conversation was passed to a human.")
    timings: dict[str, float] = {}


class HistoryMessage(BaseModel):
    role: Literal["user", "assistant"]
    content: str


class History(BaseModel):
    conversation_id: str
    messages: list[HistoryMessage]
