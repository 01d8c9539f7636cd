"""Clauses: how a message is cut into requests, and what each piece asks to change.

Used by the dialogue to queue the requests of one message ("the lamp in white, and my office
address") one per kind of change, and to tell a change request from a question.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING

from shopagent.agent import addresses, resolve
from shopagent.agent.intents import segments

if TYPE_CHECKING:
    from shopagent.agent.dialogue import Understanding

SEARCHING = re.compile(r"\b(?:show|find|search|look(?:ing)? for|recommend|suggest|similar|something like|do you (?:have|sell))\b", re.I)
LOST = re.compile(r"\b(?:i|we)(?:'ve| have)?(?: just| recently| already)? (?:lost|misplaced)"
                  r" (?:(?:my|our|the|a|an|this|that|new|brand|whole)\s+){0,3}[\w-]+(?: [\w-]+)?"  # "I lost my new tablet"
                  r"|\b(?:[\w-]+ )?[\w-]+(?: (?:i|we)(?: just| recently)? (?:got|received|bought|ordered))?"
                  r" (?:is|was|are|were|got|went|has been|have been) (?:lost|missing)\b", re.I)  # "the tablet I got is lost"
_ASKS = re.compile(r"\b(?:change|modify|switch|update|use|put|pay|charge|ship|send|deliver|fix|correct|set|move)\b"
                   r"|\bshould (?:be|go)\b", re.I)  # "ship it to …", not "my card only has $50 left"
_MY_ORDER = re.compile(r"\b(?:my|our)\s+(?:[\w-]+\s+){0,2}?order\b|#?\bW\d{7}\b", re.I)  # not "orders": which one is open
_ORDER_LEAD = re.compile(r"\W*(?:(?:uh|um|so|and|also|now|well|okay|ok)\s+)*(?:for|on|in|about|with) (?:my|our|the|that|this)"
                         r" (?:[\w'-]+ ){0,2}?order\b", re.I)  # "so for my open order …": which order, no change yet
_LISTED = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+)(?=(?:(?:please\s+)?(?:fix|change|update|correct|set|switch|move)\s+)?"
                     r"(?:my|the|it|its|their|a|an|to)\b)", re.I)  # "…, and my …", "… and fix my address to …"
_DESTINATION_END = re.compile(r"\bto (?:my|our|the|a|an|this|that) (?:[\w'-]+ ){0,3}[\w'-]+\W*$", re.I)  # "… to my new flat"
_ITEM_WISH = re.compile(r"\b(?:in|to|for|into|instead|with(?:out)?)\b", re.I)  # "the lamp in white", not "the lamp"


def change_kind(flow: str, words: str) -> str | None:
    """What a request changes: "address" or "payment" (the order stays open to changes) or "items" (it does not)."""
    if flow == "update_address":
        return "address"
    if flow == "modify_order":
        return modification(words) or "items"
    return "items" if flow == "exchange_item" else None


def order_change(clause: str) -> str | None:
    """"For my pending order: the lamp in white, and my office address." names an order of the shopper's
    and what it should become: a change to that order, whatever a catalog or status label says."""
    if "?" in clause or SEARCHING.search(clause) or not _MY_ORDER.search(clause):
        return None
    return "modify_order" if modification(clause) is not None or any(kind for _, kind in _pieces(clause)) else None


def by_kind(words: str, tag: str) -> list[dict[str, str]]:
    """A change of a pending order mixing kinds ("For my open order: the lamp in white, and my office
    address.") as one request per kind, the words of no kind ("It's on my other order.") kept with each.
    Several are tagged as one: the order found for the first is the others' too."""
    pieces = [piece for part in segments(words) for piece in _pieces(part)]
    context = [said for said, kind in pieces if kind is None]
    requests = [{"flow": "modify_order", "said": " ".join([*context, *(said for said, k in pieces if k == kind)])}
                for kind in dict.fromkeys(k for _, k in pieces if k)]
    if len(requests) > 1:
        return [{**request, "with": tag} for request in requests]
    return requests or [{"flow": "modify_order", "said": words}]


def address_in_pieces(text: str, understanding: Understanding) -> Understanding:
    """An address change said over several sentences (:func:`addresses.address_parts`) is one request:
    its sentences leave the other requests, and become one unless the message opens with them."""
    parts = segments(text)
    span = addresses.address_parts(parts)
    if span is None or (start := text.find(parts[span[0]])) < 0 or (end := text.find(parts[span[1]], start)) < 0:
        return understanding
    inside = set(parts[span[0] : span[1] + 1])
    others = [(intent, clause) for intent, clause in understanding.other_requests if clause not in inside]
    if span[0] > 0:
        others.append(("update_address", text[start : end + len(parts[span[1]])]))
        others.sort(key=lambda request: text.find(request[1]))
    return replace(understanding, other_requests=others)


def _pieces(part: str) -> list[tuple[str, str | None]]:
    """A sentence and what it changes; one listing changes of several kinds without verbs ("the lamp in
    white, and my office address") in pieces, a lead-in naming the order ("For my open order:") apart."""
    kind = (modification(part) if _ASKS.search(part) else None) or ("items" if resolve.asks_item_change(part) else None)
    lead, colon, body = part.partition(":") if modification(part.partition(":")[0]) is None else ("", "", part)
    if not colon and (frame := _ORDER_LEAD.match(part)):  # "for my open order the lamp in white and my office address"
        lead, body = part[: frame.end()], part[frame.end() :]
    listed = [piece for piece in _LISTED.split(body) if piece.strip()]
    kinds = [modification(piece) or ("items" if _ITEM_WISH.search(piece) else None) for piece in listed]
    # "switch it to my new flat, the address on my helmet order": that address only says where the flat is
    appositive = any(k == "address" and not _ASKS.search(piece) and _DESTINATION_END.search(before)
                     for before, piece, k in zip(listed, listed[1:], kinds[1:]))
    if len(listed) < 2 or None in kinds or len(set(kinds)) < 2 or appositive:  # one change, or the lead names the order
        return [(part, kind or ("items" if _MY_ORDER.search(lead) and _ITEM_WISH.search(body) else None))]
    return [*([(lead + colon, None)] if lead.strip() else []), *zip(listed, kinds)]


def modification(text: str) -> str | None:
    lowered = text.lower()
    if re.search(r"\baddress\b|\bship(?:ping)? to\b|\bdeliver(?:y)? to\b", lowered):
        return "address"
    if re.search(r"\bpay(?:ment|ing)?\b|\bcard\b|\bpaypal\b|\bgift card\b", lowered) and not re.search(
        r"\b(?:items?|sizes?|colou?rs?|switch(?:es)?|versions?)\b", lowered
    ):
        return "payment"
    return None


_ORDER_WORD = re.compile(r"\borders?\b", re.I)
_ORDER_SOURCE = re.compile(r"\b(?:on|from|in|with|one of|any of)\s+(?:\w+\s+){0,3}?orders?\b", re.I)  # where an address is


def orders_only_as_source(clause: str) -> bool:
    """Every order the clause names is where something is to be found ("the address on one of my
    orders", "you'll find it on my tablet order"), none is one to change."""
    return len(_ORDER_WORD.findall(clause)) == len(_ORDER_SOURCE.findall(clause))


def describes_only(flow: str, clause: str) -> bool:
    """A clause the classifier read as an item request that asks for nothing: "I received two tablets
    but only need one", or, for an order change, an address said only to be on another order."""
    if resolve.asks_item_change(clause):
        return False
    if flow != "modify_order":
        return True
    if order_change(clause) is not None:
        return False
    kind = modification(clause)
    return kind is None or kind == "address" and not addresses.asks_address_change(clause) and orders_only_as_source(clause)
