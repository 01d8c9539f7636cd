"""Grounding: a reply may only state facts that code handed to the writer.

The LLM writes placeholders (``{order_id}``, ``{price_1}``) that :func:`fill` replaces with verified
values; :func:`violations` then scans the finished text for anything fact-shaped — prices, ids, dates,
numbers, order statuses, catalog product names — that is not among those values. A reply with any
violation is never sent; the writer falls back to the deterministic template.
"""

from __future__ import annotations

import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

_MONTHS = r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
_WEEKDAYS = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday|tomorrow|yesterday)"

# Order matters: the first kind that matches a span claims it.
_FACT_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("price", re.compile(r"(?:[$€£]\s?\d[\d,]*(?:\.\d+)?|\b\d[\d,]*(?:\.\d+)?\s?(?:dollars?|usd|bucks|euros?|cents?)\b)", re.I)),
    ("order id", re.compile(r"#?\b[Ww]\d{5,}\b")),
    ("date", re.compile(
        rf"\b\d{{4}}-\d{{1,2}}-\d{{1,2}}\b|\b\d{{1,2}}/\d{{1,2}}(?:/\d{{2,4}})?\b"
        rf"|\b{_MONTHS}\.?\s+\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s+\d{{4}})?\b"
        rf"|\b\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS}\b|\b{_WEEKDAYS}\b", re.I)),
    ("id", re.compile(r"\b[A-Za-z_]*\d[\w-]{5,}\b")),
    ("number", re.compile(r"\b\d+(?:[.,]\d+)*(?:%|st|nd|rd|th)?\b")),
    ("status", re.compile(
        r"\b(?:pending|processed|delivered|cancell?ed|shipped|in transit|out for delivery|refunded"
        r"|return requested|exchange requested|item modified)\b", re.I)),
)


@dataclass(frozen=True)
class Violation:
    kind: str
    text: str


def placeholders(text: str) -> set[str]:
    """Names of ``{placeholders}`` in ``text`` (format-string syntax)."""
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


def fill(text: str, facts: Mapping[str, object]) -> str:
    """Replace placeholders with fact values; an unknown placeholder raises ``KeyError``."""
    return string.Formatter().vformat(text, (), dict(facts))


def _normalise(text: str) -> str:
    return re.sub(r"[\s,]+", " ", text.lower()).strip()


def _mentioned(needle: str, haystack: str) -> bool:
    """``needle`` occurs in ``haystack`` as whole tokens ("49.99" is not inside "1 249.99")."""
    return re.search(rf"(?<![\w.]){re.escape(needle)}(?![\w]|\.\d)", haystack) is not None


def violations(
    text: str,
    facts: Mapping[str, object],
    *,
    allowed: Iterable[str] = (),
    catalog_names: Iterable[str] = (),
) -> list[Violation]:
    """Fact-shaped spans in ``text`` that appear in no fact value (nor in ``allowed`` text,
    e.g. the shopper's own message, which the reply may quote back)."""
    known = " | ".join(_normalise(str(v)) for v in (*facts.values(), *allowed))
    found: list[Violation] = []
    claimed: list[tuple[int, int]] = []
    for kind, pattern in _FACT_PATTERNS:
        for match in pattern.finditer(text):
            if any(start < match.end() and match.start() < end for start, end in claimed):
                continue
            claimed.append(match.span())
            bare = _normalise(match.group()).lstrip("#$€£ ")
            if not _mentioned(bare, known):
                found.append(Violation(kind, match.group()))
    lowered = _normalise(text)
    for name in catalog_names:
        name_norm = _normalise(name)
        if name_norm and _mentioned(name_norm, lowered) and not _mentioned(name_norm, known):
            found.append(Violation("product", name))
    return found


def is_grounded(text: str, facts: Mapping[str, object], **kwargs: Iterable[str]) -> bool:
    return not violations(text, facts, **kwargs)
