"""Plain records that retrieval indexes and returns.

Retrieval sits below the agent: it never reads the shop database itself. The agent's glue
(``shopagent.agent.search``) turns store rows into these records, so this package stays testable with
records built by hand and usable with any system of record.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class VariantRecord:
    """One purchasable item as the shop's system of record sees it *now* (never read from the index)."""

    item_id: str
    product_id: str
    options: dict[str, str]
    available: bool
    price_cents: int
    stock: int | None = None  # None: the shop does not track stock, availability alone decides
    image_path: str | None = None

    @property
    def in_stock(self) -> bool:
        return self.available and (self.stock is None or self.stock > 0)


@dataclass(frozen=True)
class ProductDoc:
    """What the index embeds for one product: its text, and its variants' photos.

    ``attributes`` are the *text* attributes only: visual ones a shop keeps out of the product text
    (``visual_in_text`` false) must not be passed, or text search would see what only photos show.
    """

    product_id: str
    name: str
    category: str | None = None
    description: str | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    variants: tuple[VariantRecord, ...] = ()

    def option_values(self) -> dict[str, list[str]]:
        """Every value each option takes across the variants, in first-seen order."""
        values: dict[str, dict[str, None]] = {}
        for variant in self.variants:
            for key, value in variant.options.items():
                values.setdefault(key, {})[str(value)] = None
        return {key: list(seen) for key, seen in values.items()}

    @property
    def text(self) -> str:
        """The passage the text encoder embeds: name, category, description, attributes, options."""
        parts = [self.name]
        if self.category and self.category.lower() != self.name.lower():
            parts.append(f"Category: {self.category}.")
        if self.description:
            parts.append(self.description)
        parts += [f"{key}: {_value_text(value)}." for key, value in self.attributes.items()]
        parts += [f"{key}: {', '.join(values)}." for key, values in self.option_values().items()]
        return " ".join(parts)

    @property
    def text_hash(self) -> str:
        return content_hash(self.text)


@dataclass(frozen=True)
class PassageDoc:
    """A policy/FAQ passage."""

    id: str
    title: str
    text: str

    @property
    def content(self) -> str:
        return f"{self.title}\n{self.text}"


@dataclass(frozen=True)
class PassageHit:
    id: str
    title: str
    text: str
    score: float  # cosine similarity to the question


def content_hash(*parts: str | bytes) -> str:
    """A short digest deciding whether an indexed record must be embedded again."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()[:32]


def _value_text(value: Any) -> str:
    if isinstance(value, (list, tuple, set)):
        return ", ".join(str(v) for v in value)
    return str(value)
