"""Wording helpers: how store records read in a reply (every fact comes from a store record)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shopagent.agent.entities import PaymentMention


def money_line(back: float) -> str:
    """What a change or changes come to for the shopper: "$12.50 back to you" or "$3.00 to pay"."""
    return f"${abs(back):,.2f} " + ("back to you" if back >= 0 else "to pay")


def money_back(details: Mapping[str, Any]) -> float:
    """What a change gives back to the shopper (a charge is negative), from the store's preview."""
    if "refunds" in details:
        return float(sum(r["amount"] for r in details["refunds"]))
    if "refund_amount" in details:
        return float(details["refund_amount"])
    return -float(details.get("price_difference") or 0.0)


def item_label(item: Mapping[str, Any]) -> str:
    options = ", ".join(f"{v}" for v in item["options"].values())
    return f"{item['name']} ({options})" if options else item["name"]


def items_line(items: list[Mapping[str, Any]]) -> str:
    return "; ".join(f"{item_label(item)} at ${item['price']:.2f}" for item in items)


def order_line(order: Mapping[str, Any]) -> str:
    names = ", ".join(item["name"] for item in order["items"])
    return f"{order['order_id']} ({order['status']}: {names})"


def variant_options(product: Mapping[str, Any], current: Mapping[str, Any]) -> str:
    available = [v for v in product["variants"].values() if v.get("available") and v["item_id"] != current["item_id"]]
    lines = [", ".join(str(x) for x in v["options"].values()) + f" at ${v['price']:.2f}" for v in available[:8]]
    return "; ".join(lines) or "none right now"


def method_label(method: Mapping[str, Any]) -> str:
    if method["source"] == "gift_card":
        balance = method.get("balance")
        return f"gift card ({method['id']}, balance ${balance:.2f})" if balance is not None else f"gift card ({method['id']})"
    if method["source"] == "credit_card":
        return f"{method.get('brand', 'credit')} card ending {method.get('last_four', '????')}"
    return method["source"]


def mention_label(mention: PaymentMention) -> str:
    """A payment method the shopper named but does not have: "an amex card", "PayPal"."""
    if mention.kind == "credit_card":
        return f"a {mention.brand or 'credit'} card" + (f" ending {mention.last_four}" if mention.last_four else "")
    return {"paypal": "PayPal", "gift_card": "a gift card"}.get(mention.kind, "that method")


def address_line(address: Mapping[str, str]) -> str:
    parts = [address.get(k, "") for k in ("address1", "address2", "city", "state", "zip", "country")]
    return ", ".join(p for p in parts if p)
