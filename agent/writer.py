"""The reply stage: turn a reply plan (decided in code) into text, with the LLM or a template.

The dialogue decides *what* to say as a :class:`ReplyPlan`: a deterministic template with
``{placeholders}`` plus the verified facts that fill them. With a chat model configured, the model
rewrites the template (keeping placeholders); every sentence is filled and checked by
:mod:`grounding` before it is released. A sentence that states an unverified fact, or a reply that
drops a required fact, is replaced by the template (a ``reset`` event tells streaming clients to
replace what they showed). The fallback rate is counted for metrics.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Literal

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import BaseMessage, HumanMessage, SystemMessage
from prometheus_client import Counter

from shopagent.agent import grounding
from shopagent.logs import get_logger

log = get_logger(__name__)

_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n+")
REPLIES = Counter(
    "shopagent_replies",
    "Reply plans written, by outcome: llm, template_only, or a fallback to the template because the LLM's "
    "reply was ungrounded or the LLM was unavailable (down, slow, erroring).",
    ["outcome"],
)
Outcome = Literal["llm", "template_only", "ungrounded", "llm_unavailable"]


@dataclass(frozen=True)
class ReplyPlan:
    """What to say: exact template text, the facts it may state, and whether the LLM may rephrase."""

    template: str
    facts: Mapping[str, str] = field(default_factory=dict)
    rephrase: bool = True  # False for text that must be exact (confirmation of a change)
    allowed: tuple[str, ...] = ()  # other text the reply may quote (the shopper's own message)

    @property
    def text(self) -> str:
        """The deterministic reply."""
        return grounding.fill(self.template, self.facts)


@dataclass(frozen=True)
class WriterEvent:
    kind: Literal["delta", "reset"]
    text: str = ""


@dataclass
class WriterStats:
    """Counters for metrics: how often the LLM's reply was used or replaced by the template."""

    llm: int = 0
    fallback: int = 0
    template_only: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def count(self, outcome: Outcome) -> None:
        REPLIES.labels(outcome).inc()
        field = "fallback" if outcome in ("ungrounded", "llm_unavailable") else outcome
        with self._lock:
            setattr(self, field, getattr(self, field) + 1)

    @property
    def fallback_rate(self) -> float:
        attempts = self.llm + self.fallback
        return self.fallback / attempts if attempts else 0.0


def _system_prompt() -> str:
    return resources.files("shopagent.agent").joinpath("prompts/reply.md").read_text()


class ReplyWriter:
    def __init__(self, chat_model: BaseChatModel | None, catalog_names: Iterable[str] = ()) -> None:
        self.chat_model = chat_model
        self.catalog_names = tuple(catalog_names)
        self.system_prompt = _system_prompt()
        self.stats = WriterStats()
        if (warm := getattr(chat_model, "warm", None)) is not None:  # a local model caches the system prompt now
            try:
                warm(self._messages(""))
            except Exception as exc:  # only a speed-up: a broken model falls back per reply, as in stream()
                log.warning("llm_warm_failed", error=f"{type(exc).__name__}: {exc}")

    def write(self, plan: ReplyPlan) -> str:
        """The final reply text (what a non-streaming client receives)."""
        text = ""
        for event in self.stream(plan):
            text = event.text if event.kind == "reset" else (f"{text} {event.text}" if text else event.text)
        return text

    def stream(self, plan: ReplyPlan) -> Iterator[WriterEvent]:
        """Checked sentences as they are ready; at most one ``reset`` to the template."""
        if self.chat_model is None or not plan.rephrase:
            self.stats.count("template_only")
            yield WriterEvent("delta", plan.text)
            return
        required = grounding.placeholders(plan.template)
        used: set[str] = set()
        sent = False
        try:
            for sentence in self._sentences(plan):
                problem = self._check(sentence, plan)
                if problem:
                    raise _Ungrounded(problem)
                filled = grounding.fill(sentence, plan.facts)
                used |= grounding.placeholders(sentence)
                used |= {name for name, value in plan.facts.items() if str(value) in filled}
                sent = True
                yield WriterEvent("delta", filled)
            if not required <= used:
                raise _Ungrounded(f"dropped facts {sorted(required - used)}")
        except _Ungrounded as exc:
            log.info("reply_fallback", reason=str(exc))
            self.stats.count("ungrounded")
            yield WriterEvent("reset" if sent else "delta", plan.text)
            return
        except Exception as exc:  # backend down, timeout: the shopper still gets an answer
            log.warning("llm_unavailable", error=f"{type(exc).__name__}: {exc}")
            self.stats.count("llm_unavailable")
            yield WriterEvent("reset" if sent else "delta", plan.text)
            return
        self.stats.count("llm")

    def _check(self, sentence: str, plan: ReplyPlan) -> str | None:
        try:
            unknown = grounding.placeholders(sentence) - set(plan.facts)
            if unknown:
                return f"unknown placeholders {sorted(unknown)}"
            filled = grounding.fill(sentence, plan.facts)
        except (ValueError, IndexError, KeyError) as exc:
            return f"malformed placeholders: {exc}"
        found = grounding.violations(filled, plan.facts, allowed=plan.allowed, catalog_names=self.catalog_names)
        return f"unverified {found}" if found else None

    def _messages(self, draft: str) -> list[BaseMessage]:
        """The fixed system prompt first, so llama.cpp's prefix cache covers it on every call."""
        return [SystemMessage(self.system_prompt), HumanMessage(f"Draft reply:\n{draft}")]

    def _sentences(self, plan: ReplyPlan) -> Iterator[str]:
        assert self.chat_model is not None
        buffer = ""
        for chunk in self.chat_model.stream(self._messages(plan.template)):
            buffer += str(chunk.content)
            *complete, buffer = _SENTENCE_END.split(buffer)
            for sentence in complete:
                if sentence.strip():
                    yield sentence.strip()
        if buffer.strip():
            yield buffer.strip()


class _Ungrounded(Exception):
    """A sentence or reply failed the grounding check."""
