"""Shoppers' data: retention purge, export and erasure.

What shopagent keeps about a shopper: conversations (messages, the dialogue state, replies stored
under idempotency keys, handoff summaries, confirmation tokens and idempotency records) and the
shop's own records (profile, payment methods, orders). Recordings are never stored: voice turns are
transcribed in memory, and only their text (a message with ``channel="voice"``) is kept.

Retention (settings, in days, 0 = keep): ``retention_transcripts_days`` deletes voice-turn text,
``retention_conversations_days`` deletes conversations idle that long with everything attached.
:func:`purge` applies both (``shopagent privacy purge``; the service every ``purge_interval_minutes``).

Erasure (:func:`delete_user`) is refused while the shopper has an open order (the shop still needs
the address to ship, refund or exchange). Otherwise it deletes their conversations and everything
attached, and blanks name, email, addresses and card digits on the profile and the orders. It keeps
the orders' items, amounts, payment history and gift-card balances under the user id (bookkeeping
records the shop must keep; user ids are expected to be opaque, not names).

The audit log is kept as it is. It is the record of every change made on a shopper's behalf, which
the shop keeps to prove what was done (a legal obligation and the defence of legal claims: GDPR
Art. 17(3)(b) and (e)); the database refuses any edit of it (triggers), so no code path could
pseudonymise it without weakening that guarantee. Erasure and purges append an entry saying what was
removed, never what it contained.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from shopagent.agent.store.db import create_engine, transaction
from shopagent.agent.store.errors import NotFound, StoreError
from shopagent.agent.store.records import ADDRESS_FIELDS, order_record, user_record
from shopagent.agent.store.schema import (
    AuditEntry,
    ConfirmationToken,
    Conversation,
    Handoff,
    IdempotencyRecord,
    Message,
    StoredReply,
    User,
    utcnow,
)
from shopagent.logs import get_logger
from shopagent.settings import Settings

log = get_logger(__name__)

OPEN_STATUSES = ("pending", "pending (item modified)", "processed", "return requested", "exchange requested")
ACTOR = "privacy"
_CHUNK = 500  # ids per DELETE ... IN (...), well under every driver's parameter limit


class OpenOrders(StoreError):
    """Erasure asked for a shopper whose orders are not finished yet."""

    code = "open_orders"
    http_status = 409


@dataclass(frozen=True)
class PurgeSummary:
    transcripts: int
    conversations: int


@dataclass(frozen=True)
class ErasureSummary:
    user_id: str
    conversations: int
    messages: int
    orders_scrubbed: int


# --- export --------------------------------------------------------------------------------------


def export_user(engine: Engine, user_id: str) -> dict[str, Any]:
    """Everything stored about one shopper, as JSON-ready data (the right of access)."""
    with transaction(engine) as db:
        user = _user(db, user_id)
        conversations = list(
            db.scalars(select(Conversation).where(Conversation.user_id == user_id).order_by(Conversation.created_at))
        )
        ids = [c.id for c in conversations]
        messages = _by_conversation(db, select(Message).where(Message.conversation_id.in_(ids)).order_by(Message.id))
        handoffs = _by_conversation(db, select(Handoff).where(Handoff.conversation_id.in_(ids)).order_by(Handoff.id))
        audit = db.scalars(
            select(AuditEntry)
            .where(or_(AuditEntry.conversation_id.in_(ids), AuditEntry.arguments["user_id"].as_string() == user_id))
            .order_by(AuditEntry.id)
        )
        return {
            "user": user_record(user),
            "orders": [order_record(order) for order in user.orders],
            "conversations": [
                {
                    "conversation_id": c.id,
                    "created_at": c.created_at.isoformat(),
                    "messages": [
                        {"role": m.role, "content": m.content, "channel": m.channel, "at": m.created_at.isoformat()}
                        for m in messages.get(c.id, [])
                    ],
                    "handoffs": [
                        {"summary": h.summary, "at": h.created_at.isoformat()} for h in handoffs.get(c.id, [])
                    ],
                }
                for c in conversations
            ],
            "audit_log": [
                {"at": e.at.isoformat(), "conversation_id": e.conversation_id, "actor": e.actor, "kind": e.kind,
                 "tool": e.tool, "arguments": e.arguments, "outcome": e.outcome}
                for e in audit
            ],
        }


# --- erasure -------------------------------------------------------------------------------------


def delete_user(engine: Engine, user_id: str, *, now: datetime | None = None) -> ErasureSummary:
    """Erase one shopper's personal data (see the module docstring for what is kept, and why)."""
    now = now or utcnow()
    with transaction(engine, write=True) as db:
        # The user's row lock serialises this with the shopper's confirmations (see store.shop).
        db.execute(select(User.user_id).where(User.user_id == user_id).with_for_update())
        user = _user(db, user_id)
        unfinished = [o.order_id for o in user.orders if o.status in OPEN_STATUSES]
        if unfinished:
            raise OpenOrders(f"Orders {', '.join(unfinished)} are still open; erase the data once they are finished")
        ids = list(db.scalars(select(Conversation.id).where(Conversation.user_id == user_id)))
        messages = _delete_conversations(db, ids)
        marker = secrets.token_hex(8)  # unguessable: nobody can log in as an erased shopper
        user.first_name, user.last_name, user.email = "erased", marker, f"erased-{marker}@invalid"
        for row in (user, *user.orders):
            for field in ADDRESS_FIELDS:
                setattr(row, field, "")
            row.version += 1  # outstanding confirmation tokens for these records stop working
        for method in user.payment_methods:
            method.last_four = None if method.last_four is None else "0000"
        summary = ErasureSummary(user_id, len(ids), messages, len(user.orders))
        _audit(db, now, "erasure", "delete_user_data", {"user_id": user_id}, asdict(summary))
    log.info("user_erased", **asdict(summary))
    return summary


# --- retention -----------------------------------------------------------------------------------


def purge(engine: Engine, settings: Settings, *, now: datetime | None = None) -> PurgeSummary:
    """Delete what is older than the retention settings allow; 0-day settings keep everything.

    Transcript retention also forgets the dialogue state of conversations idle that long: an
    unfinished flow keeps the shopper's words in it (a pending confirmation expires long before).
    """
    now = now or utcnow()
    transcripts = conversations = 0
    with transaction(engine, write=True) as db:
        if settings.retention_conversations_days:
            ids = _idle_since(db, now - timedelta(days=settings.retention_conversations_days))
            _delete_conversations(db, ids)
            conversations = len(ids)
        if settings.retention_transcripts_days:
            cutoff = now - timedelta(days=settings.retention_transcripts_days)
            for chunk in _chunks(_idle_since(db, cutoff)):
                db.execute(update(Conversation).where(Conversation.id.in_(chunk)).values(state=None))
            old = select(Message.id).where(Message.channel == "voice", Message.created_at < cutoff)
            transcripts = _delete_in(db, Message, Message.id, list(db.scalars(old)))
        summary = PurgeSummary(transcripts, conversations)
        if transcripts or conversations:
            _audit(db, now, "purge", "retention_purge", {
                "transcripts_days": settings.retention_transcripts_days,
                "conversations_days": settings.retention_conversations_days,
            }, asdict(summary))
    log.info("retention_purge", **asdict(summary))
    return summary


class PurgeSchedule:
    """Runs :func:`purge` every ``settings.purge_interval_minutes`` in a daemon thread (the service)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        if self.settings.purge_interval_minutes and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="retention-purge", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)

    def _run(self) -> None:
        engine = create_engine(self.settings.database_url)
        try:
            while not self._stop.wait(self.settings.purge_interval_minutes * 60):
                try:
                    purge(engine, self.settings)
                except Exception as exc:  # a failed run is retried at the next interval, not fatal
                    log.error("retention_purge_failed", error=f"{type(exc).__name__}: {exc}")
        finally:
            engine.dispose()


# --- internals -----------------------------------------------------------------------------------


def _user(db: Session, user_id: str) -> User:
    user = db.get(User, user_id) if isinstance(user_id, str) else None
    if user is None:
        raise NotFound("User not found")
    return user


def _by_conversation(db: Session, query: Any) -> dict[str, list[Any]]:
    grouped: dict[str, list[Any]] = {}
    for row in db.scalars(query):
        grouped.setdefault(row.conversation_id, []).append(row)
    return grouped


def _delete_conversations(db: Session, ids: list[str]) -> int:
    """Delete conversations and every row attached to them; returns the number of messages deleted."""
    messages = _delete_in(db, Message, Message.conversation_id, ids)
    for model in (StoredReply, Handoff, ConfirmationToken, IdempotencyRecord):
        _delete_in(db, model, model.conversation_id, ids)
    _delete_in(db, Conversation, Conversation.id, ids)
    return messages


def _idle_since(db: Session, cutoff: datetime) -> list[str]:
    """Conversations with no message since ``cutoff`` (or none at all, and created before it)."""
    last = (
        select(Message.conversation_id, func.max(Message.created_at).label("at"))
        .group_by(Message.conversation_id)
        .subquery()
    )
    idle = (
        select(Conversation.id)
        .outerjoin(last, last.c.conversation_id == Conversation.id)
        .where(func.coalesce(last.c.at, Conversation.created_at) < cutoff)
    )
    return list(db.scalars(idle))


def _chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    values = list(values)
    for start in range(0, len(values), _CHUNK):
        yield values[start : start + _CHUNK]


def _delete_in(db: Session, model: type, column: Any, values: Iterable[Any]) -> int:
    return sum(db.execute(delete(model).where(column.in_(chunk))).rowcount for chunk in _chunks(values))


def _audit(db: Session, now: datetime, kind: str, tool: str, arguments: dict[str, Any], outcome: Any) -> None:
    db.add(AuditEntry(at=now, conversation_id=None, actor=ACTOR, kind=kind, tool=tool, arguments=arguments,
                      outcome=outcome))
