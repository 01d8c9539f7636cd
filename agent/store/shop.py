"""The operations facade: a :class:`ShopSession` per conversation, whose methods are the τ² tools.

The agent's tool calls and the replay harness use these same entry points, so the rules enforced here
hold for every caller:

- Authentication lives on the conversation row (it survives restarts): a successful
  ``find_user_id_by_*`` binds the conversation to that user for good, and every later call may only
  touch that user's own profile and orders.
- A change happens in two steps. :meth:`ShopSession.preview` runs the tool in a transaction that is
  rolled back, and stores a confirmation token bound to the conversation, the exact arguments and the
  target record's version, expiring after ``confirmation_ttl``. :meth:`ShopSession.confirm` (or calling
  the tool with ``confirmation=token``) runs it again for real.
- Every confirmation carries an idempotency key: a replay of the same request returns the original
  result and changes nothing; the same key for another request is a conflict.
- Confirmations are serialised per user (SQLite ``BEGIN IMMEDIATE``; PostgreSQL locks the user's row)
  and re-check the token, the key and the record's version after taking the lock, so two concurrent
  confirmations of one change apply it once.
- Every preview, change, recorded fact (authentication, handoff) and refusal goes to the audit log.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from shopagent.agent.store.db import create_engine, migrate, transaction
from shopagent.agent.store.errors import (
    AuthenticationRequired,
    BadInput,
    ConfirmationExpired,
    ConfirmationMismatch,
    ConfirmationRequired,
    ConfirmationUsed,
    IdempotencyConflict,
    NotFound,
    StoreError,
)
from shopagent.agent.store.operations import (
    AUTHENTICATE_FIRST,
    TOOLS,
    Context,
    Tool,
    _authenticate,
    check_arguments,
    find_user_id_by_email,
)
from shopagent.agent.store.policy import Policy, load_policy
from shopagent.agent.store.schema import (
    AuditEntry,
    ConfirmationToken,
    Conversation,
    IdempotencyRecord,
    Message,
    Order,
    StoredReply,
    User,
    utcnow,
)
from shopagent.faults import crash_point

T = TypeVar("T")
MAX_KEY = 200
_TARGETS: dict[str, type[Order] | type[User]] = {"order": Order, "user": User}


@dataclass(frozen=True)
class Preview:
    """A change as it would be applied, and the token that confirms exactly this change."""

    token: str
    tool: str
    arguments: dict[str, Any]
    summary: str  # for the customer: items, prices, price difference, where money goes
    details: dict[str, Any]
    result: dict[str, Any]  # the record after the change, τ²-shaped
    expires_at: datetime


class Shop:
    """The store behind one database."""

    def __init__(
        self,
        engine: Engine,
        *,
        clock: Callable[[], datetime] = utcnow,
        confirmation_ttl: timedelta = timedelta(minutes=15),
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.confirmation_ttl = confirmation_ttl

    @classmethod
    def open(cls, url: str, **options: Any) -> Shop:
        """Open (and migrate) the database at ``url``."""
        engine = create_engine(url)
        migrate(engine)
        return cls(engine, **options)

    @property
    def policy(self) -> Policy:
        with transaction(self.engine) as db:
            return load_policy(db)

    def existing_session(self, conversation_id: str, actor: str = "agent") -> ShopSession:
        """The session of a conversation that must already exist (API calls name one)."""
        with transaction(self.engine) as db:
            if not isinstance(conversation_id, str) or db.get(Conversation, conversation_id) is None:
                raise NotFound("Conversation not found")
        return ShopSession(self, conversation_id, actor[:100])

    def session(self, conversation_id: str | None = None, actor: str = "agent") -> ShopSession:
        """The session for a conversation, created on first use; ``actor`` is recorded in the audit log."""
        conversation_id = conversation_id or uuid.uuid4().hex
        if not isinstance(conversation_id, str) or len(conversation_id) > 64:
            raise BadInput("conversation_id must be a string of at most 64 characters")
        try:
            with transaction(self.engine, write=True) as db:
                if db.get(Conversation, conversation_id) is None:
                    db.add(Conversation(id=conversation_id, actor=actor[:100], created_at=self.clock()))
        except IntegrityError:  # created concurrently by another process: that is fine
            pass
        return ShopSession(self, conversation_id, actor[:100])


class ShopSession:
    """One conversation's access to the shop. Tool methods return τ²-shaped results."""

    def __init__(self, shop: Shop, conversation_id: str, actor: str) -> None:
        self.shop = shop
        self.conversation_id = conversation_id
        self.actor = actor

    @property
    def user_id(self) -> str | None:
        """The authenticated user, or None before a successful ``find_user_id_by_*``."""
        with self._context() as ctx:
            return ctx.conversation.user_id

    # --- generic entry points ------------------------------------------------------------------

    def call(
        self,
        tool: str,
        arguments: dict[str, Any] | None = None,
        *,
        confirmation: str | None = None,
        idempotency_key: str | None = None,
    ) -> Any:
        """Run a tool by name, as an agent's tool call arrives. Change tools need ``confirmation``
        (a token from :meth:`preview` of exactly these arguments) and an ``idempotency_key``."""
        arguments = {} if arguments is None else arguments

        def run() -> Any:
            spec = _find_tool(tool)
            args = check_arguments(spec, arguments)
            if spec.kind == "change":
                return self._confirm(confirmation, idempotency_key, (spec.name, args))
            with self._context(write=spec.kind == "record") as ctx:
                result = spec.fn(ctx, **args)
                if spec.kind == "record":
                    self._audit(ctx, "record", spec.name, args, result)
                return result

        return self._audited(tool, arguments, run)

    def preview(self, tool: str, arguments: dict[str, Any]) -> Preview:
        """Check a change and describe it without applying it; the token confirms exactly this change."""

        def run() -> Preview:
            spec = _find_tool(tool, change=True)
            args = check_arguments(spec, arguments)
            with self._context() as ctx:  # rolled back: the change is computed, never stored
                change = spec.fn(ctx, **args)
                target = change.target
                kind = "order" if isinstance(target, Order) else "user"
                target_id = target.order_id if isinstance(target, Order) else target.user_id
                version = target.version
            token = secrets.token_urlsafe(24)
            with self._context(write=True) as ctx:
                expires_at = ctx.now + self.shop.confirmation_ttl
                ctx.db.add(
                    ConfirmationToken(
                        token_hash=_digest(token),
                        conversation_id=self.conversation_id,
                        tool=spec.name,
                        arguments=args,
                        target_kind=kind,
                        target_id=target_id,
                        target_version=version,
                        created_at=ctx.now,
                        expires_at=expires_at,
                    )
                )
                self._audit(ctx, "preview", spec.name, args, {"summary": change.summary})
            crash_point("preview_stored")
            summary = "\n".join(change.summary)
            return Preview(token, spec.name, args, summary, change.details, change.result, expires_at)

        return self._audited(tool, arguments, run)

    def confirm(self, confirmation: str, idempotency_key: str) -> Any:
        """Apply the change a preview's token stands for; returns the changed record."""
        crash_point("confirmation_received")
        result = self._audited(
            "confirm",
            {"idempotency_key": idempotency_key},
            lambda: self._confirm(confirmation, idempotency_key, None),
        )
        crash_point("change_committed")
        return result

    def add_message(self, role: str, content: str) -> None:
        with self._context(write=True) as ctx:
            message = Message(conversation_id=self.conversation_id, role=role, content=content, created_at=ctx.now)
            ctx.db.add(message)

    def dialogue_state(self) -> dict[str, Any] | None:
        """What the dialogue remembered after the last turn (None for a new conversation)."""
        with self._context() as ctx:
            return ctx.conversation.state

    def save_turn(self, text: str, state: dict[str, Any], channel: str = "text") -> None:
        """Record the shopper's message and the dialogue's new state together (one transaction)."""
        with self._context(write=True) as ctx:
            ctx.db.add(Message(
                conversation_id=self.conversation_id, role="user", content=text, created_at=ctx.now, channel=channel
            ))
            ctx.conversation.state = state

    def stored_reply(self, key: str) -> dict[str, Any] | None:
        with self._context() as ctx:
            row = ctx.db.get(StoredReply, (self.conversation_id, key))
            return row.reply if row else None

    def store_reply(self, key: str, reply: dict[str, Any]) -> None:
        """Keep a reply under the client's idempotency key; the first one stored wins."""
        try:
            with self._context(write=True) as ctx:
                if ctx.db.get(StoredReply, (self.conversation_id, key)) is None:
                    ctx.db.add(StoredReply(conversation_id=self.conversation_id, key=key, reply=reply, created_at=ctx.now))
        except IntegrityError:  # stored concurrently by a retry: keep that one
            pass

    def messages(self) -> list[dict[str, str]]:
        with self._context() as ctx:
            rows = ctx.db.scalars(
                select(Message).where(Message.conversation_id == self.conversation_id).order_by(Message.id)
            )
            return [{"role": m.role, "content": m.content} for m in rows]

    def authenticate_signed(self, subject: str) -> str:
        """Authenticate as the shopper a shop-signed token names (user id or email), with the lookup
        tools' rules (one user per conversation). Not a tool: only the service calls it, after checking
        the signature, so nothing a shopper types can reach it."""

        def run() -> str:
            with self._context(write=True) as ctx:
                known_id = ctx.db.get(User, subject) is not None
                user_id = _authenticate(ctx, subject) if known_id else find_user_id_by_email(ctx, subject)
                self._audit(ctx, "record", "signed_identity", {"subject": subject}, user_id)
                return user_id

        return self._audited("signed_identity", {"subject": subject}, run)

    # --- the τ² tools ----------------------------------------------------------------------------

    def find_user_id_by_email(self, email: str) -> str:
        return self.call("find_user_id_by_email", {"email": email})

    def find_user_id_by_name_zip(self, first_name: str, last_name: str, zip: str) -> str:
        return self.call("find_user_id_by_name_zip", {"first_name": first_name, "last_name": last_name, "zip": zip})

    def get_user_details(self, user_id: str) -> dict[str, Any]:
        return self.call("get_user_details", {"user_id": user_id})

    def get_order_details(self, order_id: str) -> dict[str, Any]:
        return self.call("get_order_details", {"order_id": order_id})

    def get_product_details(self, product_id: str) -> dict[str, Any]:
        return self.call("get_product_details", {"product_id": product_id})

    def get_item_details(self, item_id: str) -> dict[str, Any]:
        return self.call("get_item_details", {"item_id": item_id})

    def list_all_product_types(self) -> str:
        return self.call("list_all_product_types")

    def calculate(self, expression: str) -> str:
        return self.call("calculate", {"expression": expression})

    def transfer_to_human_agents(self, summary: str) -> str:
        return self.call("transfer_to_human_agents", {"summary": summary})

    def cancel_pending_order(
        self, order_id: str, reason: str, *, confirmation: str | None, idempotency_key: str
    ) -> dict[str, Any]:
        args = {"order_id": order_id, "reason": reason}
        return self.call("cancel_pending_order", args, confirmation=confirmation, idempotency_key=idempotency_key)

    def modify_pending_order_address(
        self,
        order_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
        *,
        confirmation: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        args = {"order_id": order_id, **_address(address1, address2, city, state, country, zip)}
        return self.call(
            "modify_pending_order_address", args, confirmation=confirmation, idempotency_key=idempotency_key
        )

    def modify_pending_order_payment(
        self, order_id: str, payment_method_id: str, *, confirmation: str | None, idempotency_key: str
    ) -> dict[str, Any]:
        args = {"order_id": order_id, "payment_method_id": payment_method_id}
        return self.call(
            "modify_pending_order_payment", args, confirmation=confirmation, idempotency_key=idempotency_key
        )

    def modify_pending_order_items(
        self,
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
        *,
        confirmation: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        args = {
            "order_id": order_id,
            "item_ids": item_ids,
            "new_item_ids": new_item_ids,
            "payment_method_id": payment_method_id,
        }
        return self.call(
            "modify_pending_order_items", args, confirmation=confirmation, idempotency_key=idempotency_key
        )

    def return_delivered_order_items(
        self,
        order_id: str,
        item_ids: list[str],
        payment_method_id: str,
        *,
        confirmation: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        args = {"order_id": order_id, "item_ids": item_ids, "payment_method_id": payment_method_id}
        return self.call(
            "return_delivered_order_items", args, confirmation=confirmation, idempotency_key=idempotency_key
        )

    def exchange_delivered_order_items(
        self,
        order_id: str,
        item_ids: list[str],
        new_item_ids: list[str],
        payment_method_id: str,
        *,
        confirmation: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        args = {
            "order_id": order_id,
            "item_ids": item_ids,
            "new_item_ids": new_item_ids,
            "payment_method_id": payment_method_id,
        }
        return self.call(
            "exchange_delivered_order_items", args, confirmation=confirmation, idempotency_key=idempotency_key
        )

    def modify_user_address(
        self,
        user_id: str,
        address1: str,
        address2: str,
        city: str,
        state: str,
        country: str,
        zip: str,
        *,
        confirmation: str | None,
        idempotency_key: str,
    ) -> dict[str, Any]:
        args = {"user_id": user_id, **_address(address1, address2, city, state, country, zip)}
        return self.call("modify_user_address", args, confirmation=confirmation, idempotency_key=idempotency_key)

    # --- internals -------------------------------------------------------------------------------

    @contextmanager
    def _context(self, write: bool = False) -> Iterator[Context]:
        with transaction(self.shop.engine, write=write) as db:
            conversation = db.get(Conversation, self.conversation_id)
            yield Context(db, load_policy(db), conversation, self.shop.clock())

    def _confirm(self, token: str | None, key: str | None, expected: tuple[str, dict[str, Any]] | None) -> Any:
        if not isinstance(key, str) or not key or len(key) > MAX_KEY:
            raise BadInput(f"idempotency_key must be a non-empty string of at most {MAX_KEY} characters")
        if token is not None and not isinstance(token, str):
            raise BadInput("confirmation must be a string")
        try:
            return self._apply(token, key, expected)
        except IntegrityError:  # the same key committed concurrently for another user: now visible
            return self._apply(token, key, expected)

    def _apply(self, token: str | None, key: str, expected: tuple[str, dict[str, Any]] | None) -> Any:
        with self._context(write=True) as ctx:
            user_id = ctx.conversation.user_id
            if user_id is None:
                raise AuthenticationRequired(AUTHENTICATE_FIRST)
            # Serialise this user's changes; everything below is read after the lock, so it is current.
            ctx.db.execute(select(User.user_id).where(User.user_id == user_id).with_for_update())
            row = ctx.db.get(ConfirmationToken, _digest(token)) if token else None
            tool, args = expected or ((row.tool, row.arguments) if row else (None, None))
            if tool is not None and (record := ctx.db.get(IdempotencyRecord, key)) is not None:
                if record.request_hash != self._request_hash(tool, args):
                    raise IdempotencyConflict("This idempotency key was already used for a different request")
                return record.result
            row = self._check_token(ctx, row, tool, args)
            target = ctx.db.get(_TARGETS[row.target_kind], row.target_id)
            if target is None or target.version != row.target_version:
                raise ConfirmationMismatch("The record changed since the preview; preview the change again")
            change = TOOLS[row.tool].fn(ctx, **row.arguments)
            change.target.version += 1
            row.used_at = ctx.now
            ctx.db.add(
                IdempotencyRecord(
                    key=key,
                    conversation_id=self.conversation_id,
                    request_hash=self._request_hash(row.tool, row.arguments),
                    tool=row.tool,
                    result=change.result,
                    created_at=ctx.now,
                )
            )
            self._audit(ctx, "change", row.tool, row.arguments, {"summary": change.summary, "idempotency_key": key})
            ctx.db.flush()
            crash_point("mid_operation")  # written, not yet committed
            return change.result

    def _check_token(
        self, ctx: Context, row: ConfirmationToken | None, tool: str | None, args: dict[str, Any] | None
    ) -> ConfirmationToken:
        if row is None:
            raise ConfirmationRequired("No confirmation for this change: preview it and ask the user first")
        if row.conversation_id != self.conversation_id:
            raise ConfirmationMismatch("This confirmation belongs to another conversation")
        if row.tool != tool or _canonical(row.arguments) != _canonical(args):
            raise ConfirmationMismatch("This confirmation is for a different change")
        if row.used_at is not None:
            raise ConfirmationUsed("This confirmation was already used")
        if ctx.now >= row.expires_at:
            raise ConfirmationExpired("This confirmation has expired; preview the change again")
        return row

    def _request_hash(self, tool: str, args: dict[str, Any] | None) -> str:
        return _digest(_canonical([self.conversation_id, tool, args]))

    def _audited(self, tool: Any, arguments: Any, run: Callable[[], T]) -> T:
        """Run ``run``; a refusal is written to the audit log (in its own transaction) and re-raised."""
        try:
            return run()
        except StoreError as exc:
            with self._context(write=True) as ctx:
                self._audit(ctx, "refusal", str(tool)[:64], arguments, exc.as_dict())
            raise

    def _audit(self, ctx: Context, kind: str, tool: str, arguments: Any, outcome: Any) -> None:
        ctx.db.add(
            AuditEntry(
                at=ctx.now,
                conversation_id=self.conversation_id,
                actor=self.actor,
                kind=kind,
                tool=tool,
                arguments=_jsonable(arguments if isinstance(arguments, dict) else {"value": arguments}),
                outcome=_jsonable(outcome),
            )
        )


def _find_tool(name: Any, change: bool = False) -> Tool:
    spec = TOOLS.get(name) if isinstance(name, str) else None
    if spec is None:
        raise BadInput(f"Unknown tool: {str(name)[:64]!r}")
    if change and spec.kind != "change":
        raise BadInput(f"{spec.name} changes nothing that needs confirming; call it directly")
    return spec


def _address(address1: str, address2: str, city: str, state: str, country: str, zip: str) -> dict[str, str]:
    return {
        "address1": address1,
        "address2": address2,
        "city": city,
        "state": state,
        "country": country,
        "zip": zip,
    }


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _jsonable(value: Any, limit: int = 10_000) -> Any:
    """``value`` as JSON-safe data for the audit log; oversized or odd input is kept as truncated text."""
    text = json.dumps(value, default=repr, ensure_ascii=False)
    return json.loads(text) if len(text) <= limit else {"truncated": text[:limit]}
