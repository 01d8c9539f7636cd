"""The τ²-bench retail tools over the database, with the benchmark's semantics and refusal texts.

Each tool is a function of a :class:`Context` (one transaction, the conversation, the policy) plus the
tool's own arguments. Read tools return τ²-shaped results. Change tools check everything first, then
change ORM objects and return a :class:`Change`; they never commit. :mod:`~shopagent.agent.store.shop`
runs a change tool twice: when previewing, in a transaction that is rolled back (so the preview shows
exactly what would happen), and when confirming, under lock, for real. Because every check comes
before the first mutation, a refusal changes nothing. Where the order of checks is observable (which
refusal wins), it follows the benchmark.

Rules that are not the benchmark's: calls act only for the user the conversation authenticated, on
that user's own data; item lists must be non-empty; a cancellation refunds what each payment method
has net paid (the benchmark refunds every history entry, which is the same for an order with one
payment); a return window applies when the policy has one and the order a delivery date.
"""

from __future__ import annotations

import ast
import inspect
import json
import operator
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal, get_type_hints

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shopagent.agent.store.errors import (
    AuthenticationRequired,
    BadInput,
    InsufficientBalance,
    InvalidStatus,
    NotFound,
    PolicyViolation,
    WrongUser,
)
from shopagent.agent.store.policy import Policy, status_label
from shopagent.agent.store.records import (
    ADDRESS_FIELDS,
    address_record,
    order_record,
    product_record,
    user_record,
)
from shopagent.agent.store.schema import (
    Conversation,
    Handoff,
    Order,
    OrderItem,
    Payment,
    PaymentMethod,
    Product,
    User,
    Variant,
    from_cents,
)

MAX_TEXT = 2000
MAX_ITEMS = 50
AUTHENTICATE_FIRST = "Authenticate the user first: find their user id by email, or by name and zip code"
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@dataclass
class Context:
    db: Session
    policy: Policy
    conversation: Conversation
    now: datetime


@dataclass
class Change:
    """What a change tool did (or, in a preview, would do)."""

    result: dict[str, Any]  # the changed record, τ²-shaped
    target: Order | User  # the record a confirmation is bound to (by its version)
    summary: list[str]  # for the customer: what changes, prices, where money goes
    details: dict[str, Any]  # the same, structured


ToolKind = Literal["read", "record", "change"]


@dataclass(frozen=True)
class Tool:
    """A tool: ``read`` only reads, ``record`` writes a fact (authentication, handoff) without
    confirmation, ``change`` changes shop data and needs a confirmed preview."""

    name: str
    kind: ToolKind
    fn: Callable[..., Any]
    params: dict[str, type]  # argument name → str or list[str]
    description: str


TOOLS: dict[str, Tool] = {}


def _tool(kind: ToolKind) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    def register(fn: Callable[..., Any]) -> Callable[..., Any]:
        hints = get_type_hints(fn)
        names = list(inspect.signature(fn).parameters)[1:]  # after the context
        TOOLS[fn.__name__] = Tool(
            fn.__name__, kind, fn, {n: hints[n] for n in names}, inspect.getdoc(fn) or ""
        )
        return fn

    return register


def check_arguments(tool: Tool, arguments: Any) -> dict[str, Any]:
    """Validated arguments, or :class:`BadInput` for missing/unexpected names, wrong types, absurd sizes."""
    if not isinstance(arguments, dict):
        raise BadInput("Arguments must be an object of named values")
    unexpected = sorted(str(name) for name in arguments if name not in tool.params)
    missing = sorted(name for name in tool.params if name not in arguments)
    if unexpected:
        raise BadInput(f"Unexpected argument(s) for {tool.name}: {', '.join(unexpected)}")
    if missing:
        raise BadInput(f"Missing argument(s) for {tool.name}: {', '.join(missing)}")
    return {name: _check_value(name, kind, arguments[name]) for name, kind in tool.params.items()}


def _check_value(name: str, kind: type, value: Any) -> Any:
    if kind is str:
        return _check_text(name, value)
    if not isinstance(value, list):
        raise BadInput(f"{name} must be a list of strings")
    if not value:
        raise BadInput(f"{name} must not be empty")
    if len(value) > MAX_ITEMS:
        raise BadInput(f"{name} has more than {MAX_ITEMS} entries")
    return [_check_text(name, v) for v in value]


def _check_text(name: str, value: Any) -> str:
    if not isinstance(value, str):
        raise BadInput(f"{name} must be a string")
    if len(value) > MAX_TEXT:
        raise BadInput(f"{name} is longer than {MAX_TEXT} characters")
    if _CONTROL.search(value):
        raise BadInput(f"{name} contains control characters")
    return value


# --- lookups with ownership ----------------------------------------------------------------------


def _authenticated_user_id(ctx: Context) -> str:
    if ctx.conversation.user_id is None:
        raise AuthenticationRequired(AUTHENTICATE_FIRST)
    return ctx.conversation.user_id


def _check_owner(ctx: Context, owner_id: str, what: str) -> None:
    if owner_id != _authenticated_user_id(ctx):
        raise WrongUser(f"This {what} belongs to another user; this conversation serves only its own user")


def _get_order(ctx: Context, order_id: str) -> Order:
    _authenticated_user_id(ctx)
    order = ctx.db.get(Order, order_id)
    if order is None:
        raise NotFound("Order not found")
    _check_owner(ctx, order.user_id, "order")
    return order


def _get_user(ctx: Context, user_id: str) -> User:
    _authenticated_user_id(ctx)
    user = ctx.db.get(User, user_id)
    if user is None:
        raise NotFound("User not found")
    _check_owner(ctx, user.user_id, "user account")
    return user


def _get_product(ctx: Context, product_id: str) -> Product:
    product = ctx.db.get(Product, product_id)
    if product is None:
        raise NotFound("Product not found")
    return product


def _get_variant(ctx: Context, product_id: str, item_id: str) -> Variant:
    _get_product(ctx, product_id)
    variant = ctx.db.get(Variant, item_id)
    if variant is None or variant.product_id != product_id:
        raise NotFound("Variant not found")
    return variant


def _get_payment_method(user: User, payment_method_id: str) -> PaymentMethod:
    for method in user.payment_methods:
        if method.id == payment_method_id:
            return method
    raise NotFound("Payment method not found")


def _authenticate(ctx: Context, user_id: str | None) -> str:
    if user_id is None:
        raise NotFound("User not found")
    if ctx.conversation.user_id not in (None, user_id):
        raise WrongUser("This conversation already serves another user; one user per conversation")
    ctx.conversation.user_id = user_id
    return user_id


# --- read tools ----------------------------------------------------------------------------------


@_tool("record")
def find_user_id_by_email(ctx: Context, email: str) -> str:
    """Find a user id by email (case-insensitive) and authenticate the conversation as that user."""
    user_id = ctx.db.scalar(
        select(User.user_id).where(func.lower(User.email) == email.lower()).order_by(User.position)
    )
    return _authenticate(ctx, user_id)


@_tool("record")
def find_user_id_by_name_zip(ctx: Context, first_name: str, last_name: str, zip: str) -> str:
    """Find a user id by first name, last name (case-insensitive) and zip code, and authenticate the
    conversation as that user. Use when the user cannot give their email."""
    user_id = ctx.db.scalar(
        select(User.user_id)
        .where(
            func.lower(User.first_name) == first_name.lower(),
            func.lower(User.last_name) == last_name.lower(),
            User.zip == zip,
        )
        .order_by(User.position)
    )
    return _authenticate(ctx, user_id)


@_tool("read")
def get_user_details(ctx: Context, user_id: str) -> dict[str, Any]:
    """The authenticated user's profile: name, address, email, payment methods and order ids."""
    return user_record(_get_user(ctx, user_id))


@_tool("read")
def get_order_details(ctx: Context, order_id: str) -> dict[str, Any]:
    """Status, items, fulfillments and payment history of one of the user's orders ('#W0000000')."""
    return order_record(_get_order(ctx, order_id))


@_tool("read")
def get_product_details(ctx: Context, product_id: str) -> dict[str, Any]:
    """A product's variants: item id, options, availability and price. A product id is not an item id."""
    return product_record(_get_product(ctx, product_id))


@_tool("read")
def get_item_details(ctx: Context, item_id: str) -> dict[str, Any]:
    """One variant by item id, with its product's id and name (not a τ²-bench tool)."""
    variant = ctx.db.get(Variant, item_id)
    if variant is None:
        raise NotFound("Item not found")
    return {
        "item_id": variant.item_id,
        "product_id": variant.product_id,
        "name": variant.product.name,
        "options": dict(variant.options),
        "available": variant.available,
        "price": from_cents(variant.price_cents),
    }


@_tool("read")
def list_all_product_types(ctx: Context) -> str:
    """All product names with their product ids, as a JSON object sorted by name."""
    rows = ctx.db.execute(select(Product.name, Product.product_id).order_by(Product.position))
    return json.dumps(dict(rows.tuples().all()), sort_keys=True)


_ARITHMETIC: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


@_tool("read")
def calculate(ctx: Context, expression: str) -> str:
    """Evaluate arithmetic with numbers, + - * /, parentheses and spaces; the result rounded to cents."""
    if not all(c in "0123456789+-*/(). " for c in expression):
        raise BadInput("Invalid characters in expression")
    try:
        return str(round(float(_evaluate(ast.parse(expression, mode="eval").body)), 2))
    except (SyntaxError, ZeroDivisionError, OverflowError, RecursionError) as exc:
        raise BadInput(f"Invalid expression: {exc}") from None


def _evaluate(node: ast.AST) -> int | float:
    """Only numbers and the four operations: no names, calls or powers (``9**9**9`` would hang)."""
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return node.value
    if isinstance(node, ast.BinOp) and type(node.op) in _ARITHMETIC:
        return _ARITHMETIC[type(node.op)](_evaluate(node.left), _evaluate(node.right))
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        value = _evaluate(node.operand)
        return -value if isinstance(node.op, ast.USub) else value
    raise SyntaxError("only numbers, + - * / and parentheses are allowed")


@_tool("record")
def transfer_to_human_agents(ctx: Context, summary: str) -> str:
    """Hand the conversation to a human agent with a summary of the user's issue. Only when the user
    asks for a human, or the request cannot be handled with these tools."""
    ctx.db.add(
        Handoff(conversation_id=ctx.conversation.id, user_id=ctx.conversation.user_id, summary=summary)
    )
    return "Transfer successful"


# --- change tools --------------------------------------------------------------------------------


@_tool("change")
def cancel_pending_order(ctx: Context, order_id: str, reason: str) -> Change:
    """Cancel a pending order for one of the policy's cancel reasons (τ²: 'no longer needed' or
    'ordered by mistake'). Everything paid is refunded to the method it came from: gift cards at once,
    other methods in a few business days."""
    order = _get_order(ctx, order_id)
    policy = ctx.policy
    if order.status not in policy.cancellable_statuses:
        raise InvalidStatus(f"Non-{status_label(policy.cancellable_statuses)} order cannot be cancelled")
    if reason not in policy.cancel_reasons:
        raise PolicyViolation("Invalid reason")
    refunds = [(_get_payment_method(order.user, m), cents) for m, cents in _net_paid(order).items()]

    for method, cents in refunds:
        order.payments.append(Payment(transaction_type="refund", amount_cents=cents, payment_method_id=method.id))
        _adjust_balance(method, cents)
    order.status, order.cancel_reason = "cancelled", reason
    return Change(
        order_record(order),
        order,
        [f"Cancel order {order.order_id} (reason: {reason})."]
        + [f"Refund {_usd(c)} to {_method_label(m)}, {_refund_timing(ctx, m)}." for m, c in refunds],
        {
            "order_id": order.order_id,
            "reason": reason,
            "refunds": [
                {"payment_method_id": m.id, "amount": from_cents(c), "when": _refund_timing(ctx, m)}
                for m, c in refunds
            ],
        },
    )


@_tool("change")
def modify_pending_order_address(
    ctx: Context, order_id: str, address1: str, address2: str, city: str, state: str, country: str, zip: str
) -> Change:
    """Change the shipping address of a pending order."""
    order = _get_order(ctx, order_id)
    statuses = ctx.policy.modifiable_statuses
    if order.status not in statuses:
        raise InvalidStatus(f"Non-{status_label(statuses)} order cannot be modified")
    old, new = _set_address(order, address1, address2, city, state, country, zip)
    return Change(
        order_record(order),
        order,
        [f"Ship order {order.order_id} to {_address_line(new)} (was {_address_line(old)})."],
        {"order_id": order.order_id, "old_address": old, "new_address": new},
    )


@_tool("change")
def modify_pending_order_payment(ctx: Context, order_id: str, payment_method_id: str) -> Change:
    """Pay a pending order with another of the user's payment methods; the old one is refunded. A gift
    card must cover the whole amount."""
    order = _get_order(ctx, order_id)
    statuses = ctx.policy.modifiable_statuses
    if order.status not in statuses:
        raise InvalidStatus(f"Non-{status_label(statuses)} order cannot be modified")
    new = _get_payment_method(order.user, payment_method_id)
    if len(order.payments) != 1 or order.payments[0].transaction_type != "payment":
        raise PolicyViolation("There should be exactly one payment for a pending order")
    paid = order.payments[0]
    if paid.payment_method_id == payment_method_id:
        raise PolicyViolation("The new payment method should be different from the current one")
    amount = paid.amount_cents
    if new.source == "gift_card" and (new.balance_cents or 0) < amount:
        raise InsufficientBalance("Insufficient gift card balance to pay for the order")
    old = _get_payment_method(order.user, paid.payment_method_id)

    order.payments.append(Payment(transaction_type="payment", amount_cents=amount, payment_method_id=new.id))
    order.payments.append(Payment(transaction_type="refund", amount_cents=amount, payment_method_id=old.id))
    _adjust_balance(new, -amount)
    _adjust_balance(old, amount)
    return Change(
        order_record(order),
        order,
        [
            f"Pay order {order.order_id} ({_usd(amount)}) with {_method_label(new)}.",
            f"Refund {_usd(amount)} to {_method_label(old)}, {_refund_timing(ctx, old)}.",
        ],
        {"order_id": order.order_id, "amount": from_cents(amount), "from": old.id, "to": new.id},
    )


@_tool("change")
def modify_pending_order_items(
    ctx: Context, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
) -> Change:
    """Change items of a pending order to other available options of the same product, all in one
    call: afterwards the order can be neither modified nor cancelled. The price difference is paid
    or refunded on the given method; a gift card must cover a positive difference."""
    order = _get_order(ctx, order_id)
    statuses = ctx.policy.item_modifiable_statuses
    if order.status not in statuses:
        raise InvalidStatus(f"Non-{status_label(statuses)} order cannot be modified")
    _check_items_in_order(order, item_ids, "{} not found")
    swaps, difference = _plan_swaps(
        ctx, order, item_ids, new_item_ids, "The number of items to be exchanged should match", same_ok=False
    )
    method = _get_payment_method(order.user, payment_method_id)
    if method.source == "gift_card" and (method.balance_cents or 0) < difference:
        raise InsufficientBalance("Insufficient gift card balance to pay for the new item")

    summary = (  # described before the items change
        [f"Change {len(swaps)} item(s) in order {order.order_id}; it cannot be modified or cancelled afterwards."]
        + _swap_lines(swaps)
        + [_difference_line(difference, method)]
    )
    details = _swap_details(order, swaps, difference, method)

    kind = "payment" if difference > 0 else "refund"
    order.payments.append(Payment(transaction_type=kind, amount_cents=abs(difference), payment_method_id=method.id))
    _adjust_balance(method, -difference)
    for item, variant in swaps:
        source = swaps[-1][1] if ctx.policy.modified_items_copy_last_variant else variant
        item.item_id, item.price_cents, item.options = variant.item_id, source.price_cents, dict(source.options)
    order.status = "pending (item modified)"
    return Change(order_record(order), order, summary, details)


@_tool("change")
def return_delivered_order_items(
    ctx: Context, order_id: str, item_ids: list[str], payment_method_id: str
) -> Change:
    """Request a return of items from a delivered order. The refund goes to the original payment
    method or to one of the user's gift cards; the user gets an email on how to send the items back."""
    order = _get_order(ctx, order_id)
    policy = ctx.policy
    if order.status not in policy.returnable_statuses:
        raise InvalidStatus(f"Non-{status_label(policy.returnable_statuses)} order cannot be returned")
    _check_return_window(ctx, order)
    method = _get_payment_method(order.user, payment_method_id)
    original = order.payments[0].payment_method_id if order.payments else None
    if method.id != original and not (policy.refund_to_any_gift_card and method.source == "gift_card"):
        raise PolicyViolation("Payment method should be the original payment method")
    _check_items_in_order(order, item_ids, "Some item not found")

    returned = _pick_items(order, item_ids)
    refund = sum(item.price_cents for item in returned)
    order.status = "return requested"
    order.return_items = sorted(item_ids)
    order.return_payment_method_id = method.id
    return Change(
        order_record(order),
        order,
        [f"Return {len(returned)} item(s) from order {order.order_id}:"]
        + [f"- {_item_label(i.name, i.options)}, {_usd(i.price_cents)}" for i in returned]
        + [f"Refund {_usd(refund)} to {_method_label(method)} once the items arrive."],
        {
            "order_id": order.order_id,
            "items": [{"item_id": i.item_id, "name": i.name, "price": from_cents(i.price_cents)} for i in returned],
            "refund_amount": from_cents(refund),
            "refund_payment_method_id": method.id,
        },
    )


@_tool("change")
def exchange_delivered_order_items(
    ctx: Context, order_id: str, item_ids: list[str], new_item_ids: list[str], payment_method_id: str
) -> Change:
    """Request an exchange of items from a delivered order for other available options of the same
    product, all in one call. The price difference is paid or refunded on the given method; a gift
    card must cover a positive difference. No new order is needed."""
    order = _get_order(ctx, order_id)
    statuses = ctx.policy.exchangeable_statuses
    if order.status not in statuses:
        raise InvalidStatus(f"Non-{status_label(statuses)} order cannot be exchanged")
    _check_return_window(ctx, order)
    _check_items_in_order(order, item_ids, "Number of {} not found.")
    swaps, difference = _plan_swaps(
        ctx, order, item_ids, new_item_ids, "The number of items to be exchanged should match.", same_ok=True
    )
    method = _get_payment_method(order.user, payment_method_id)
    if method.source == "gift_card" and (method.balance_cents or 0) < difference:
        raise InsufficientBalance("Insufficient gift card balance to pay for the price difference")

    order.status = "exchange requested"
    order.exchange_items = sorted(item_ids)
    order.exchange_new_items = sorted(new_item_ids)
    order.exchange_payment_method_id = method.id
    order.exchange_price_difference_cents = difference
    return Change(
        order_record(order),
        order,
        [f"Exchange {len(swaps)} item(s) from order {order.order_id}:"]
        + _swap_lines(swaps)
        + [_difference_line(difference, method)],
        _swap_details(order, swaps, difference, method),
    )


@_tool("change")
def modify_user_address(
    ctx: Context, user_id: str, address1: str, address2: str, city: str, state: str, country: str, zip: str
) -> Change:
    """Change the user's default address (orders already placed keep theirs)."""
    user = _get_user(ctx, user_id)
    old, new = _set_address(user, address1, address2, city, state, country, zip)
    return Change(
        user_record(user),
        user,
        [f"Set the default address of {user.user_id} to {_address_line(new)} (was {_address_line(old)})."],
        {"user_id": user.user_id, "old_address": old, "new_address": new},
    )


# --- helpers for the change tools ----------------------------------------------------------------


def _check_items_in_order(order: Order, item_ids: list[str], message: str) -> None:
    """Every id must be in the order at least as often as it is listed (duplicates count)."""
    present = Counter(item.item_id for item in order.items)
    for item_id in item_ids:
        if item_ids.count(item_id) > present[item_id]:
            raise NotFound(message.format(item_id))


def _pick_items(order: Order, item_ids: list[str]) -> list[OrderItem]:
    """The order's items for ``item_ids``, a distinct item for each listed duplicate."""
    remaining = list(order.items)
    picked = []
    for item_id in item_ids:
        item = next(i for i in remaining if i.item_id == item_id)
        remaining.remove(item)
        picked.append(item)
    return picked


def _plan_swaps(
    ctx: Context, order: Order, item_ids: list[str], new_item_ids: list[str], length_error: str, same_ok: bool
) -> tuple[list[tuple[OrderItem, Variant]], int]:
    """Pair each item with its replacement (an available variant of the same product) and return the
    pairs and the total price difference in cents."""
    if len(item_ids) != len(new_item_ids):
        raise PolicyViolation(length_error)
    swaps = []
    for item, new_item_id in zip(_pick_items(order, item_ids), new_item_ids, strict=True):
        if not same_ok and item.item_id == new_item_id:
            raise PolicyViolation("The new item id should be different from the old item id")
        variant = _get_variant(ctx, item.product_id, new_item_id)
        if not variant.available:
            raise PolicyViolation(f"New item {new_item_id} not found or available")
        swaps.append((item, variant))
    return swaps, sum(variant.price_cents - item.price_cents for item, variant in swaps)


def _check_return_window(ctx: Context, order: Order) -> None:
    days = ctx.policy.return_window_days
    if days is not None and order.delivered_at is not None and ctx.now - order.delivered_at > timedelta(days=days):
        raise PolicyViolation(f"The {days}-day return window for this order has passed")


def _net_paid(order: Order) -> dict[str, int]:
    """Cents each payment method has paid, net of refunds, for methods with something to refund."""
    net: dict[str, int] = {}
    for p in order.payments:
        sign = 1 if p.transaction_type == "payment" else -1
        net[p.payment_method_id] = net.get(p.payment_method_id, 0) + sign * p.amount_cents
    return {method_id: cents for method_id, cents in net.items() if cents > 0}


def _adjust_balance(method: PaymentMethod, cents: int) -> None:
    """Gift cards settle at once; other methods settle outside the shop."""
    if method.source == "gift_card":
        method.balance_cents = (method.balance_cents or 0) + cents


def _set_address(row: Order | User, *values: str) -> tuple[dict[str, str], dict[str, str]]:
    old = address_record(row)
    new = dict(zip(("address1", "address2", "city", "state", "country", "zip"), values, strict=True))
    for field in ADDRESS_FIELDS:
        setattr(row, field, new[field])
    return old, address_record(row)


def _swap_details(
    order: Order, swaps: list[tuple[OrderItem, Variant]], difference: int, method: PaymentMethod
) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "items": [
            {
                "item_id": item.item_id,
                "name": item.name,
                "options": dict(item.options),
                "price": from_cents(item.price_cents),
                "new_item_id": variant.item_id,
                "new_options": dict(variant.options),
                "new_price": from_cents(variant.price_cents),
            }
            for item, variant in swaps
        ],
        "price_difference": from_cents(difference),
        "payment_method_id": method.id,
    }


def _swap_lines(swaps: list[tuple[OrderItem, Variant]]) -> list[str]:
    return [
        f"- {_item_label(item.name, item.options)}, {_usd(item.price_cents)} → "
        f"{_item_label(item.name, variant.options)}, {_usd(variant.price_cents)}"
        for item, variant in swaps
    ]


def _difference_line(difference: int, method: PaymentMethod) -> str:
    if difference > 0:
        return f"You pay the difference of {_usd(difference)} with {_method_label(method)}."
    if difference < 0:
        return f"You are refunded the difference of {_usd(-difference)} to {_method_label(method)}."
    return "There is no price difference."


def _refund_timing(ctx: Context, method: PaymentMethod) -> str:
    if method.source == "gift_card":
        return "immediately"
    low, high = ctx.policy.card_refund_business_days
    return f"within {low} to {high} business days"


def _usd(cents: int) -> str:
    return f"-${-cents / 100:,.2f}" if cents < 0 else f"${cents / 100:,.2f}"


def _method_label(method: PaymentMethod) -> str:
    if method.source == "credit_card":
        return f"{method.brand} credit card ending in {method.last_four} ({method.id})"
    if method.source == "gift_card":
        return f"gift card {method.id}"
    return f"PayPal ({method.id})"


def _item_label(name: str, options: dict[str, Any]) -> str:
    return f"{name} ({', '.join(f'{k}: {v}' for k, v in options.items())})" if options else name


def _address_line(address: dict[str, str]) -> str:
    parts = [address["address1"], address["address2"], address["city"], f"{address['state']} {address['zip']}"]
    return ", ".join(p for p in parts if p) + f", {address['country']}"
