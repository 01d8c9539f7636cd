"""The shop's policy as data.

One :class:`Policy` value drives both the operations (which statuses allow which change, accepted
cancel reasons, where refunds may go, the return window) and the policy/FAQ passages the agent quotes,
so what the agent says can never contradict what the code does. The policy is stored in the database
with the data it governs: an imported τ² store carries the benchmark's rules, the demo store its own.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, fields
from typing import Any

from sqlalchemy.orm import Session

from shopagent.agent.store.schema import StoreSetting


@dataclass(frozen=True)
class Policy:
    shop_name: str = "the shop"
    cancel_reasons: tuple[str, ...] = ("no longer needed", "ordered by mistake")
    # Which order statuses allow each change. Address and payment follow τ²: any "pending" status.
    cancellable_statuses: tuple[str, ...] = ("pending",)
    modifiable_statuses: tuple[str, ...] = ("pending", "pending (item modified)")
    item_modifiable_statuses: tuple[str, ...] = ("pending",)
    returnable_statuses: tuple[str, ...] = ("delivered",)
    exchangeable_statuses: tuple[str, ...] = ("delivered",)
    # Refund destinations for returns: the original payment method always; any own gift card if true.
    refund_to_any_gift_card: bool = True
    return_window_days: int | None = None  # counted from delivery; None = no limit (τ² has no dates)
    card_refund_business_days: tuple[int, int] = (5, 7)  # gift-card refunds are immediate
    shipping_business_days: tuple[int, int] | None = None
    free_shipping_over: float | None = None
    warranty_months: int | None = None
    # τ²-bench's modify_pending_order_items gives every modified item the price and options of the
    # *last* new variant in the call. Imported τ² stores keep this so results match the benchmark.
    modified_items_copy_last_variant: bool = False

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Policy:
        known = {f.name for f in fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items() if k in known})

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


TAU2_POLICY = Policy(shop_name="the τ²-bench retail store", modified_items_copy_last_variant=True)
DEMO_POLICY = Policy(
    shop_name="Larkspur & Co.",
    return_window_days=30,
    shipping_business_days=(2, 5),
    free_shipping_over=50.0,
    warranty_months=12,
)


def load_policy(db: Session) -> Policy:
    row = db.get(StoreSetting, "policy")
    return Policy() if row is None else Policy.from_dict(row.value)


def save_policy(db: Session, policy: Policy) -> None:
    db.merge(StoreSetting(key="policy", value=policy.as_dict()))


def status_label(statuses: tuple[str, ...]) -> str:
    """``("pending", "pending (item modified)")`` → ``"pending"``: the wording of τ²'s refusals."""
    names = dict.fromkeys(re.sub(r"\s*\(.*\)$", "", s) for s in statuses)
    return " or ".join(names)


# --- text ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Passage:
    """One policy/FAQ passage: indexed by retrieval, quoted by the agent."""

    id: str
    title: str
    text: str


def _days(span: tuple[int, int]) -> str:
    low, high = span
    return f"{low} business days" if low == high else f"{low} to {high} business days"


def _quoted(values: tuple[str, ...]) -> str:
    items = [f"'{v}'" for v in values]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + f" or {items[-1]}"


def policy_passages(policy: Policy) -> list[Passage]:
    """The customer-facing policy, one passage per topic, generated from ``policy``."""
    p = policy
    refund_timing = (
        f"Refunds to a gift card are added to its balance immediately; refunds to a credit card "
        f"or PayPal take {_days(p.card_refund_business_days)}."
    )
    refund_to = (
        "to the original payment method or to any of your gift cards"
        if p.refund_to_any_gift_card
        else "to the original payment method"
    )
    window = (
        f" within {p.return_window_days} days of delivery" if p.return_window_days is not None else ""
    )
    passages = [
        Passage(
            "identity",
            "Verifying who you are",
            f"Before we look at or change anything, {p.shop_name} confirms who you are by your email "
            "address, or by your first name, last name and zip code. One conversation serves one "
            "customer, and we only discuss and change that customer's own profile and orders.",
        ),
        Passage(
            "confirmation",
            "Confirming changes",
            "Before any change (cancel, modify, return, exchange, address update) we list exactly "
            "what will change, including items, prices, the price difference and where money goes, "
            "and we only proceed after you explicitly confirm.",
        ),
        Passage(
            "cancel",
            "Cancelling an order",
            f"Orders can be cancelled while their status is {_quoted(p.cancellable_statuses)}. "
            f"The reason must be {_quoted(p.cancel_reasons)}. The full amount is refunded to the "
            f"payment method(s) used. {refund_timing}",
        ),
        Passage(
            "modify",
            "Changing a pending order",
            f"While an order's status is {_quoted(p.modifiable_statuses)} you can change its "
            "shipping address or its payment method. A new payment method must differ from the "
            "current one, and a gift card must have enough balance to cover the whole order. "
            f"Items can be changed while the status is {_quoted(p.item_modifiable_statuses)}: each "
            "item can become another available option of the same product (no switching to a "
            "different product), all items in a single request, because the order cannot be "
            "modified again or cancelled afterwards. You pay or are refunded the price difference "
            "on a payment method you choose; a gift card must cover a positive difference.",
        ),
        Passage(
            "return",
            "Returns",
            f"Items from an order whose status is {_quoted(p.returnable_statuses)} can be "
            f"returned{window}. The refund goes {refund_to}. {refund_timing} After the request "
            "you receive an email explaining how to send the items back.",
        ),
        Passage(
            "exchange",
            "Exchanges",
            f"Items from an order whose status is {_quoted(p.exchangeable_statuses)} can be "
            f"exchanged{window} for another available option of the same product, all items in "
            "one request. The price difference is paid or refunded on a payment method you choose; "
            "a gift card must cover a positive difference. You receive an email explaining how to "
            "send the items back; no new order is needed.",
        ),
        Passage(
            "address",
            "Your default address",
            "You can update the default address on your profile at any time; it is used for "
            "future orders and does not change orders already placed.",
        ),
        Passage(
            "human",
            "Talking to a person",
            "If your request is outside what we can do here, we transfer you to a human agent "
            "with a summary of your issue.",
        ),
    ]
    if p.shipping_business_days is not None:
        free = (
            f" Shipping is free on orders over ${p.free_shipping_over:.2f}."
            if p.free_shipping_over is not None
            else ""
        )
        passages.append(
            Passage(
                "shipping",
                "Shipping",
                f"Orders ship within {_days(p.shipping_business_days)}.{free} Each shipment has a "
                "tracking number, shown in the order details once the order is processed.",
            )
        )
    if p.warranty_months is not None:
        passages.append(
            Passage(
                "warranty",
                "Warranty",
                f"Products carry a {p.warranty_months}-month warranty against manufacturing "
                "defects from the delivery date. For a warranty claim we transfer you to a human "
                "agent.",
            )
        )
    return passages


def policy_text(policy: Policy) -> str:
    """The whole policy as Markdown (the passages, in order)."""
    body = "\n\n".join(f"## {p.title}\n\n{p.text}" for p in policy_passages(policy))
    return f"# {policy.shop_name[:1].upper()}{policy.shop_name[1:]}: customer policy\n\n{body}\n"

