"""Structured logging (structlog) with PII redaction.

Shopper messages carry emails, names, addresses and card digits; logs must not. Every event passes
through :func:`redact` before rendering, so a careless ``log.info("turn", text=message)`` is safe.
"""

from __future__ import annotations

import logging
import re
import sys
from typing import Any

import structlog

_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"), "<email>"),
    # Digits glued to letters or dashes are part of an id (uuid, hex conversation id), not a number.
    (re.compile(r"(?<![\w-])(?:\d[ -]?){12,18}\d(?![\w-])"), "<card>"),
    (re.compile(r"(?<![\w+-])\+?\d[\d ().-]{7,}\d(?![\w-])"), "<phone>"),
)
_SENSITIVE_KEYS = frozenset({"email", "name", "address", "zip", "phone", "api_key", "authorization"})


def redact(text: str) -> str:
    """Mask emails, card-like digit runs and phone numbers in free text."""
    for pattern, mask in _PATTERNS:
        text = pattern.sub(mask, text)
    return text


def _redact_event(_: Any, __: str, event: dict[str, Any]) -> dict[str, Any]:
    for key, value in list(event.items()):
        if key in _SENSITIVE_KEYS and value is not None:
            event[key] = "<redacted>"
        elif isinstance(value, str):
            event[key] = redact(value)
    return event


class _Stderr:
    """Whatever ``sys.stderr`` is at write time (test runners and daemons swap it)."""

    def write(self, text: str) -> int:
        return sys.stderr.write(text)

    def flush(self) -> None:
        sys.stderr.flush()


def configure_logging(level: str = "INFO", json: bool = False) -> None:
    """Route stdlib and structlog output through one redacting pipeline on stderr."""
    renderer: Any = structlog.processors.JSONRenderer() if json else structlog.dev.ConsoleRenderer(colors=False)
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            _redact_event,  # before the timestamp, which would look like a phone number
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso"),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=_Stderr()),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(level=level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
