"""SQLAlchemy models of the shop's system of record (SQLite and PostgreSQL from the same code).

Choices that matter:
- Money is stored as integer cents, so sums and gift-card balances are exact on both databases.
- Lists keep the order they were imported in (``position`` columns), because the τ² export compares
  lists element by element.
- ``orders.version`` and ``users.version`` count applied changes; a confirmation token is bound to the
  version it previewed, so a change confirmed after the record moved on is refused.
- Order items copy name, price and options at purchase time (and payments their method id) instead of
  referencing the catalog: history must not change when the catalog does.
- ``audit_log`` is append-only in the database itself (triggers created by the migration).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    TypeDecorator,
    func,
)
from sqlalchemy.ext.orderinglist import ordering_list
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ID = String(64)
NULLABLE_JSON = JSON(none_as_null=True)  # None is SQL NULL, not the JSON text 'null'
ORDER_STATUSES = (
    "pending",
    "pending (item modified)",
    "processed",
    "delivered",
    "cancelled",
    "return requested",
    "exchange requested",
)
PAYMENT_SOURCES = ("credit_card", "paypal", "gift_card")


def to_cents(amount: float | int | str | Decimal) -> int:
    """Exact cents of a decimal amount; ``ValueError`` if it has fractions of a cent."""
    value = Decimal(str(amount))
    cents = (value * 100).quantize(Decimal(1), rounding=ROUND_HALF_EVEN)
    if cents != value * 100:
        raise ValueError(f"{amount} is not a whole number of cents")
    return int(cents)


def from_cents(cents: int) -> float:
    """The float the τ² JSON uses (``n / 100`` is the float nearest to the decimal amount)."""
    return cents / 100


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC in Python, naive UTC in the database (SQLite has no time zones)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: pass an aware (UTC) datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[str]: JSON, datetime: UTCDateTime}


# --- catalog -------------------------------------------------------------------------------------


class Product(Base):
    """A product type (τ²: "product") with text and visual attributes for search and image rendering."""

    __tablename__ = "products"

    product_id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, index=True)
    category: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(Text)
    # Text attributes (material, use, ...) may be indexed for search; visual ones (color, pattern,
    # shape) feed the image renderer and appear in text only when ``visual_in_text`` is true.
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    visual: Mapped[dict[str, Any]] = mapped_column(default=dict)
    visual_in_text: Mapped[bool] = mapped_column(Boolean, default=True)

    variants: Mapped[list[Variant]] = relationship(
        back_populates="product",
        order_by="Variant.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
    )


class Variant(Base):
    """A purchasable item (τ²: "variant", keyed by ``item_id``)."""

    __tablename__ = "variants"
    __table_args__ = (CheckConstraint("price_cents >= 0", name="ck_variants_price"),)

    item_id: Mapped[str] = mapped_column(ID, primary_key=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.product_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    available: Mapped[bool] = mapped_column(Boolean)
    price_cents: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int | None] = mapped_column(Integer)
    image_path: Mapped[str | None] = mapped_column(String(500))
    visual: Mapped[dict[str, Any]] = mapped_column(default=dict)

    product: Mapped[Product] = relationship(back_populates="variants")


# --- customers -----------------------------------------------------------------------------------


class User(Base):
    __tablename__ = "users"

    user_id: Mapped[str] = mapped_column(ID, primary_key=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    email: Mapped[str] = mapped_column(String(254))
    address1: Mapped[str] = mapped_column(String(200))
    address2: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(100))
    zip: Mapped[str] = mapped_column(String(20), index=True)
    version: Mapped[int] = mapped_column(Integer, default=1)

    payment_methods: Mapped[list[PaymentMethod]] = relationship(
        back_populates="user",
        order_by="PaymentMethod.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
    )
    orders: Mapped[list[Order]] = relationship(back_populates="user", order_by="Order.position")


Index("ix_users_email_lower", func.lower(User.email))


class PaymentMethod(Base):
    __tablename__ = "payment_methods"
    __table_args__ = (
        CheckConstraint(f"source IN {PAYMENT_SOURCES}", name="ck_payment_methods_source"),
        CheckConstraint("balance_cents IS NULL OR balance_cents >= 0", name="ck_payment_methods_balance"),
    )

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(20))
    brand: Mapped[str | None] = mapped_column(String(40))
    last_four: Mapped[str | None] = mapped_column(String(4))
    balance_cents: Mapped[int | None] = mapped_column(Integer)  # gift cards only

    user: Mapped[User] = relationship(back_populates="payment_methods")


# --- orders --------------------------------------------------------------------------------------


class Order(Base):
    __tablename__ = "orders"
    __table_args__ = (CheckConstraint(f"status IN {ORDER_STATUSES}", name="ck_orders_status"),)

    order_id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(ForeignKey("users.user_id"), index=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    address1: Mapped[str] = mapped_column(String(200))
    address2: Mapped[str] = mapped_column(String(200))
    city: Mapped[str] = mapped_column(String(100))
    state: Mapped[str] = mapped_column(String(100))
    country: Mapped[str] = mapped_column(String(100))
    zip: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(40))
    cancel_reason: Mapped[str | None] = mapped_column(String(100))
    return_items: Mapped[list[str] | None] = mapped_column(NULLABLE_JSON)
    return_payment_method_id: Mapped[str | None] = mapped_column(ID)
    exchange_items: Mapped[list[str] | None] = mapped_column(NULLABLE_JSON)
    exchange_new_items: Mapped[list[str] | None] = mapped_column(NULLABLE_JSON)
    exchange_payment_method_id: Mapped[str | None] = mapped_column(ID)
    exchange_price_difference_cents: Mapped[int | None] = mapped_column(Integer)
    # τ² orders carry no dates; shops that have them get a return window (see Policy).
    placed_at: Mapped[datetime | None]
    delivered_at: Mapped[datetime | None]
    version: Mapped[int] = mapped_column(Integer, default=1)

    user: Mapped[User] = relationship(back_populates="orders")
    items: Mapped[list[OrderItem]] = relationship(
        order_by="OrderItem.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
    )
    fulfillments: Mapped[list[Fulfillment]] = relationship(
        order_by="Fulfillment.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
    )
    payments: Mapped[list[Payment]] = relationship(
        order_by="Payment.position",
        collection_class=ordering_list("position"),
        cascade="all, delete-orphan",
    )


class OrderItem(Base):
    __tablename__ = "order_items"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    product_id: Mapped[str] = mapped_column(ID)
    item_id: Mapped[str] = mapped_column(ID)
    name: Mapped[str] = mapped_column(String(200))
    price_cents: Mapped[int] = mapped_column(Integer)
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Fulfillment(Base):
    __tablename__ = "fulfillments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    tracking_ids: Mapped[list[str]] = mapped_column(JSON)
    item_ids: Mapped[list[str]] = mapped_column(JSON)


class Payment(Base):
    """One entry of an order's payment history: a payment or a refund on one payment method."""

    __tablename__ = "payments"
    __table_args__ = (
        CheckConstraint("transaction_type IN ('payment', 'refund')", name="ck_payments_type"),
        CheckConstraint("amount_cents >= 0", name="ck_payments_amount"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.order_id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    transaction_type: Mapped[str] = mapped_column(String(10))
    amount_cents: Mapped[int] = mapped_column(Integer)
    payment_method_id: Mapped[str] = mapped_column(ID)


# --- conversations and the change protocol -------------------------------------------------------


class Conversation(Base):
    """A chat; ``user_id`` is set once the user is authenticated and never changes after."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.user_id"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The dialogue's memory between turns (flow, slots, pending confirmation), so a restart resumes.
    state: Mapped[dict[str, Any] | None] = mapped_column(NULLABLE_JSON, default=None)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    content: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    # "voice" marks a transcript, which has its own retention (see shopagent.agent.privacy).
    channel: Mapped[str] = mapped_column(String(10), default="text", server_default="text")


class StoredReply(Base):
    """A reply kept under the client's Idempotency-Key, so a retried POST is answered, not re-run."""

    __tablename__ = "stored_replies"

    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), primary_key=True)
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    reply: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Handoff(Base):
    """A transfer to a human agent, with the summary the agent wrote for them."""

    __tablename__ = "handoffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    user_id: Mapped[str | None] = mapped_column(ID)
    summary: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ConfirmationToken(Base):
    """A previewed change awaiting confirmation; stored by hash so a database leak reveals no tokens."""

    __tablename__ = "confirmation_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ForeignKey("conversations.id"), index=True)
    tool: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]]
    target_kind: Mapped[str] = mapped_column(String(20))
    target_id: Mapped[str] = mapped_column(ID)
    target_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class IdempotencyRecord(Base):
    """The result of an applied change, returned again when the same request is replayed."""

    __tablename__ = "idempotency_records"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    conversation_id: Mapped[str] = mapped_column(ID, index=True)
    request_hash: Mapped[str] = mapped_column(String(64))
    tool: Mapped[str] = mapped_column(String(64))
    result: Mapped[Any] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class AuditEntry(Base):
    """Append-only: every preview, change, refusal, authentication and handoff, by whom and where."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    conversation_id: Mapped[str | None] = mapped_column(ID, index=True)  # no FK: outlives chats
    actor: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))
    tool: Mapped[str] = mapped_column(String(64))
    arguments: Mapped[dict[str, Any]]
    outcome: Mapped[Any] = mapped_column(JSON)


class StoreSetting(Base):
    """Store-wide data such as the policy parameters (``key='policy'``)."""

    __tablename__ = "store_settings"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON)
