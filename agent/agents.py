"""The agent: where a turn is handled, stage by stage.

    audio ─hear→ text ─understand→ intent + entities ─decide→ actions + reply plans ─write→ text ─speak→ audio

:meth:`ShopAgent.stream` runs one turn and yields typed events as they are ready (transcript, text
deltas, cards, actions, awaiting, done); :meth:`ShopAgent.handle` collects them into a
:class:`TurnResult`. Every stage is an object passed in, so each can be swapped or tested alone.
"""

from __future__ import annotations

import threading
import time
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from shopagent.agent import answers
from shopagent.agent.dialogue import Decision, Dialogue, DialogueState, PolicySearch, ProductSearch, Understanding
from shopagent.agent.entities import extract_entities
from shopagent.agent.intents import ACTIONABLE, IntentClassifier, punctuate, retract_slips, segments
from shopagent.agent.store.errors import StoreError
from shopagent.agent.store.shop import Shop
from shopagent.agent.turn import ProductCard, TurnEvent, TurnInput, TurnResult
from shopagent.agent.writer import ReplyWriter
from shopagent.logs import get_logger, redact
from shopagent.speech.errors import SpeechError

log = get_logger(__name__)

class InputError(ValueError):
    """A message the agent cannot take (empty, too long): a 4xx for the API."""

    code = "bad_message"
    http_status = 422


PHOTO_MESSAGE = "[photo: find products like this]"  # a photo turn in the conversation's history
PhotoSearch = Callable[[bytes, str | None], list[ProductCard]]  # (image, signed-in user) → cards, best first

# Errors a caller can cause: each carries a `code` and an `http_status`; surfaces report them as such.
CLIENT_ERRORS: tuple[type[Exception], ...] = (InputError, StoreError, SpeechError)


@dataclass
class Stages:
    """The swappable parts of a turn."""

    intents: IntentClassifier
    writer: ReplyWriter
    transcribe: Callable[[bytes], str] | None = None
    search_products: ProductSearch | None = None
    search_policy: PolicySearch | None = None
    search_photo: PhotoSearch | None = None


class ShopAgent:
    def __init__(self, shop: Shop, stages: Stages, *, max_message_chars: int = 4000) -> None:
        self.shop = shop
        self.stages = stages
        self.max_message_chars = max_message_chars
        # Weak values: a conversation's lock lives while a turn holds or awaits it, so the map does not
        # grow with every conversation the service ever answered.
        self._locks: weakref.WeakValueDictionary[str, threading.Lock] = weakref.WeakValueDictionary()
        self._locks_guard = threading.Lock()

    def handle(self, turn: TurnInput) -> TurnResult:
        result = TurnResult(conversation_id=turn.conversation_id, text="")
        for event in self.stream(turn):
            if event.kind == "done":
                return event.data
        return result

    def stream(self, turn: TurnInput) -> Iterator[TurnEvent]:
        """Run one turn; turns of one conversation are serialised, other conversations run in parallel."""
        with self._lock_for(turn.conversation_id):
            yield from self._turn(turn)

    def understand(self, text: str, *, name_asked: bool = False) -> Understanding:
        """Intent of the whole message, entities, and the other requests it contains (by segment)."""
        parts = segments(text)
        predictions = self.stages.intents.predict_many([text, *parts] if len(parts) > 1 else [text])
        first, others = predictions[0], []
        for part, prediction in zip(parts, predictions[1:]):
            if prediction.label != first.label and prediction.label in ACTIONABLE:
                others.append((str(prediction.label), part))
        return Understanding(str(first.label), first.confidence, extract_entities(text, name_asked), others)

    def _turn(self, turn: TurnInput) -> Iterator[TurnEvent]:
        timings: dict[str, float] = {}
        started = time.perf_counter()
        session = self.shop.session(turn.conversation_id, actor="agent")
        text, transcript, channel = turn.text, None, "text"
        if turn.audio is not None:
            if self.stages.transcribe is None:
                raise InputError("voice input is not enabled on this server")
            transcript = text = self.stages.transcribe(turn.audio)
            channel = "voice"
            timings["hear"] = _lap(started)
            yield TurnEvent("transcript", transcript)
        state = DialogueState.from_dict(session.dialogue_state())
        mark = time.perf_counter()
        if turn.image is not None:
            text, channel, intent = PHOTO_MESSAGE, "photo", "product_search"
            decision = self._photo_search(turn.image, session.user_id, state)
        else:
            text = punctuate(self._check(text))  # speech often comes without sentence breaks
            meant = retract_slips(text)  # read as meant; the transcript keeps the words as said
            understanding = self.understand(meant, name_asked=state.awaiting == "identity")
            intent = understanding.intent
            timings["understand"] = _lap(mark)
            mark = time.perf_counter()
            dialogue = Dialogue(session, search_products=self.stages.search_products,
                                search_policy=self.stages.search_policy)
            decision = dialogue.step(state, meant, understanding)
        session.save_turn(text, state.to_dict(), channel=channel)
        timings["decide"] = _lap(mark)
        mark = time.perf_counter()
        reply = ""
        for reply_plan in decision.plans:
            plan_text = ""
            for event in self.stages.writer.stream(reply_plan):
                timings.setdefault("first_text", _lap(started))  # what the shopper waits for first
                if event.kind == "reset":
                    yield TurnEvent("text_reset", (reply + "\n" if reply else "") + event.text)
                    plan_text = event.text
                else:
                    delta = event.text if not (reply or plan_text) else " " + event.text
                    plan_text = f"{plan_text} {event.text}".strip()
                    yield TurnEvent("text_delta", delta)
            reply = f"{reply}\n{plan_text}" if reply else plan_text
        timings["write"] = _lap(mark)
        for card in decision.cards:
            yield TurnEvent("card", card)
        for action in decision.actions:
            yield TurnEvent("action", action)
        if decision.handoff:
            yield TurnEvent("handoff", {"conversation_id": turn.conversation_id})
        yield TurnEvent("awaiting", decision.awaiting)
        session.add_message("assistant", reply)
        timings["total"] = _lap(started)
        log.info("turn", conversation=turn.conversation_id, intent=intent,
                 awaiting=decision.awaiting, text=redact(text[:200]), **{f"t_{k}": v for k, v in timings.items()})
        yield TurnEvent("done", TurnResult(
            conversation_id=turn.conversation_id,
            text=reply,
            awaiting=decision.awaiting,
            intent=intent,
            transcript=transcript,
            cards=decision.cards,
            actions=decision.actions,
            handoff=decision.handoff,
            timings=timings,
        ))

    def _photo_search(self, image: bytes, user_id: str | None, state: DialogueState) -> Decision:
        """A photo asks for products that look like it; any request in progress stays as it was."""
        if self.stages.search_photo is None:
            raise InputError("photo search is not enabled on this server")
        cards = self.stages.search_photo(image, user_id)
        found = answers.found_products(cards)
        decision = Decision(cards=cards, awaiting=state.awaiting)
        return decision.say(found.template, **found.facts)

    def _check(self, text: str | None) -> str:
        text = (text or "").strip()
        if not text:
            raise InputError("the message is empty")
        if len(text) > self.max_message_chars:
            raise InputError(f"the message is longer than {self.max_message_chars} characters")
        return text

    def _lock_for(self, conversation_id: str) -> threading.Lock:
        with self._locks_guard:
            return self._locks.setdefault(conversation_id, threading.Lock())


def _lap(since: float) -> float:
    return round(time.perf_counter() - since, 4)
