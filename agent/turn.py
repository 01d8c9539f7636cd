"""The data a turn carries through its stages: input → understanding → decision → reply → events.

A turn flows audio → text → intent → actions → reply → audio; each stage takes and returns these
plain dataclasses, so any stage can be swapped or tested alone.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Awaiting = Literal["identity", "order_id", "items", "payment_method", "confirmation", "reason", "address", "none"]
EventKind = Literal["transcript", "text_delta", "text_reset", "card", "action", "awaiting", "handoff", "done"]


@dataclass(frozen=True)
class TurnInput:
    """One shopper message. ``text`` is set for typed turns, ``audio`` for spoken ones."""

    conversation_id: str
    text: str | None = None
    audio: bytes | None = None
    image: bytes | None = None


@dataclass(frozen=True)
class ProductCard:
    """A product the reply recommends; every field comes from the store, never from the LLM."""

    product_id: str
    item_id: str | None
    name: str
    variant: str
    price: str
    image_url: str | None
    reason: str


@dataclass(frozen=True)
class ActionRecord:
    """A store operation the turn performed (or was refused)."""

    name: str
    arguments: dict[str, Any]
    ok: bool
    detail: str = ""


@dataclass
class TurnResult:
    conversation_id: str
    text: str
    awaiting: Awaiting = "none"
    intent: str | None = None
    transcript: str | None = None
    cards: list[ProductCard] = field(default_factory=list)
    actions: list[ActionRecord] = field(default_factory=list)
    handoff: bool = False
    timings: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class TurnEvent:
    """A streaming event; ``data`` is JSON-serialisable."""

    kind: EventKind
    data: Any = None
