"""Reading addresses and which address a shopper means.

Parsing a spoken or typed US address, telling the account's default address from an order's shipping
address ("change my home address" vs "send my lamp order to …"), and matching an address the shopper
describes ("the one my luggage went to") against the addresses they have.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Sequence

from shopagent.agent import entities
from shopagent.agent.entities import Record

WENT = r"went|was sent|was shipped|got sent|is going|goes|ships"  # "the one my luggage set went to"
SENT = r"(?:sent|shipped|ship(?:s|ping)|going|goes|gone|went|delivered|mailed|headed|heading|addressed)"


US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY",
}
_CODES = frozenset(US_STATES.values())
# What people call a place instead of its city name.
_PLACE_NAMES = {"nyc": "new york", "new york city": "new york", "big apple": "new york", "la": "los angeles",
                "dc": "washington", "philly": "philadelphia", "sf": "san francisco", "vegas": "las vegas"}
_STREET = (r"(?:street|st|avenue|ave|road|rd|drive|dr|lane|ln|boulevard|blvd|way|court|ct|place|pl|highway|hwy"
           r"|parkway|pkwy|terrace|circle|trail|square|broadway)")
_UNIT = r"(?:apt|apartment|suite|unit|ste|#|floor|fl)\.?\s*#?\s*[\w-]+"
_ADDRESS = re.compile(
    rf"(?<![#\w])(?P<address1>\d{{1,6}}\s+(?:[a-z][\w.'-]*\s+){{0,4}}?{_STREET}\b\.?|\d{{1,6}}\s+[a-z][\w .'-]*?(?=\s*,))"
    rf"\s*,?\s*(?:(?P<address2>{_UNIT})\s*,?\s*)?"
    r"(?P<place>[a-z][a-z .,'-]*?)\s*,?\s*(?P<zip>\d{5})(?:-\d{4})?\b"
    r"(?:\s*,?\s*(?P<country>usa|us|united states(?: of america)?))?",
    re.I,
)


def state_code(name: str) -> str | None:
    """"Texas", "tx", "New York" → the two-letter code; None for anything else."""
    name = " ".join(name.lower().replace(".", " ").split())
    return US_STATES.get(name) or (name.upper() if name.upper() in _CODES else None)


def parse_address(text: str) -> dict[str, str] | None:
    """A full US postal address in free phrasing or None: "12 Oak St, Apt 4, Austin, TX 78701",
    "445 Maple Drive Suite 394 Fort Worth Texas 76165" (state names or codes, commas optional, numbers
    spoken or written)."""
    s = entities.spoken_to_digits(text) if not re.search(r"\d", text) else text
    for match in _ADDRESS.finditer(s):
        parts = {k: (v or "").strip(" .,") for k, v in match.groupdict().items()}
        # the state is the last one or two words before the zip; what precedes it is the city
        words = parts["place"].replace(",", " ").split()
        for n in (3, 2, 1):
            if len(words) > n and (code := state_code(" ".join(words[-n:]))):
                city = " ".join(words[:-n])
                break
        else:
            continue
        return {
            "address1": _title(parts["address1"]), "address2": _title(parts["address2"]),
            "city": _title(city), "state": code, "zip": parts["zip"], "country": "USA",
        }
    return None


def _title(text: str) -> str:
    """Capitalise words written in lower case (speech), leave written capitals alone."""
    return " ".join(w[0].upper() + w[1:] if w.islower() else w for w in text.split())


def ships_to(text: str, address: Record) -> bool:
    """The text names the address's city or state ("my order going to Seattle", "the one sent to Texas")."""
    if not address:
        return False
    words = " " + " ".join(re.sub(r"[^a-z ]+", " ", text.lower()).split()) + " "
    for alias, city in _PLACE_NAMES.items():
        words = words.replace(f" {alias} ", f" {alias} {city} ")
    state = next((n for n, c in US_STATES.items() if c == address.get("state")), None)
    return any(f" {place} " in words for place in (str(address.get("city", "")).lower(), state) if place)


_DEFAULT_ADDRESS = re.compile(
    r"\b(?:default|home|profile|account'?s?|usual)\b(?: \w+)? address\b|\baddress on (?:my|the) (?:account|profile)"
    r"|\b(?:on|in|to|and|for) (?:my|the) (?:user )?(?:account|profile)\b")  # "fix it on my orders and my account"


_ORDER_TARGET = re.compile(r"\baddress(?:es)? (?:of|on|for) (?:\w+ ){0,3}orders?\b|\borders?'?s? (?:shipping |delivery )?address"
                           rf"|\b(?:every|all|each|both)(?: of)?(?: my| the)? (?:\w+ )?orders?\b|\borders?\b(?: \w+){{0,2}}? {SENT}\b"
                           r"|\bfor (?:my|the|this|that) (?:\w+ ){0,2}orders?\b"
                           r"|\b(?:my|the|this|that) (?:\w+ ){0,2}order\b[^:.;!?]{0,40}:"  # "my order that hasn't shipped: my home address"
                           # "redirect my Seattle order to …": a verb that moves a parcel, with an order as its object
                           r"|\b(?:re-?direct|re-?route|send|ship|deliver|forward)\w* (?:my|the|this|that) (?:\w+ ){0,3}orders?\b"
                           # "change it and my profile address": besides the account, only an order has an address
                           r"|\b(?:it|them|(?:my|the|this|that) (?:\w+ ){0,2}orders?)(?= and (?:also )?(?:my|the) (?:\w+ )?(?:default|home|profile|account)\b)", re.I)


_WANT_TO = re.compile(r"\b(like|love|want|need|wish|have|trying|able|hoping|wanted)\s+to\b", re.I)  # not the new address's "to"


def means_order_address(text: str) -> bool:
    """"Change the address of my other orders to …" is about orders, not the account's own address
    (what follows "to" is the new address, which may itself be "the one on my other order")."""
    target = _address_target(text)
    return bool(_ORDER_TARGET.search(target)) and not _DEFAULT_ADDRESS.search(target.lower())


def means_account_address(text: str) -> bool:
    """"Change my default address to the one that order went to" is about the account's own address,
    whatever orders the new address is described by."""
    target = _address_target(text)
    return bool(_DEFAULT_ADDRESS.search(target.lower())) and not _ORDER_TARGET.search(target)


def means_both_addresses(text: str) -> bool:
    """"Move my pending orders and my default address to …": the orders' address and the account's."""
    target = _address_target(text)
    return bool(_ORDER_TARGET.search(target)) and bool(_DEFAULT_ADDRESS.search(target.lower()))


def _address_target(text: str) -> str:
    """The words before the new address ("update <target> to <new address>")."""
    return re.split(r"\bto\b", _WANT_TO.sub(r"\1", text), maxsplit=1, flags=re.I)[0]


_CHANGE_WORDS = re.compile(r"\b(?:change|update|set|switch|move[ds]?|moving|replace|correct|fix|edit|modify|make|use|new|different"
                           r"|redirect|re-?route|forward)\b", re.I)


def asks_address_change(text: str) -> bool:
    """The words ask for an address to change ("update my address", "my new address is …", a full
    address), rather than only naming one ("my NYC address from my other order")."""
    return bool(_CHANGE_WORDS.search(text)) or parse_address(text) is not None


def order_address_request(text: str) -> str | None:
    """In a message asking to change the account's address, the sentence that also asks to change an
    order's ("One of my orders is going to my old address, please change it to … . And update my
    default address too."): that sentence, else None."""
    sentences = re.split(r"(?<=[.!?])\s+", text.strip())
    for at, sentence in enumerate(sentences):
        rest = " ".join(s for s in sentences if s is not sentence).lower()
        if means_order_address(sentence) and _CHANGE_WORDS.search(sentence) and _DEFAULT_ADDRESS.search(rest):
            told = itertools.takewhile(lambda s: not _CHANGE_WORDS.search(s) and not _DEFAULT_ADDRESS.search(s.lower()), sentences[at + 1 :])
            return " ".join([sentence, *told])  # and what the next sentences tell of it ("you'll find it on my tablet order")
    return None


_POINTS_BACK = re.compile(r"\b(?:it|that|this|them)\b", re.I)


def address_parts(parts: Sequence[str]) -> tuple[int, int] | None:
    """The sentences that make one address change said in pieces ("I may have typed my address wrong;
    it should be 12 Oak Lane, Boise, ID 83702. Please fix it on my orders and my account."): the one
    giving the address in full, the sentence before it when that only talks about the address, and those
    after it that point back at it to say where it goes. (first, last) indexes; None when it stands alone."""
    at = next((i for i, part in enumerate(parts) if parse_address(part) is not None), None)
    if at is None:
        return None
    before = parts[at - 1] if at else ""  # "my address is wrong", not "send order #W… to my default address"
    first = at - 1 if (re.search(r"\baddress", before, re.I) and parse_address(before) is None
                       and not re.search(r"\bto\b", _WANT_TO.sub(r"\1", before), re.I)) else at
    last = at
    while last + 1 < len(parts) and parse_address(parts[last + 1]) is None and _POINTS_BACK.search(parts[last + 1]) and (
            _ORDER_TARGET.search(parts[last + 1]) or _DEFAULT_ADDRESS.search(parts[last + 1].lower())):
        last += 1
    return (first, last) if last > first else None


# An order told by what it holds: "my luggage set order", "the order with the tablet" (the products only,
# so "change the backpack in my order" names no order by its backpack).
_ORDER_BY_PRODUCT = re.compile(r"\b(?:my|the|that|our) ((?:(?!(?:in|on|of|from|to|for|with|my|the|a|an|and|this|that)\b)[\w-]+ ){1,3})orders?\b"
                               r"|\borders? (?:with|for|containing|that (?:has|had|holds)) ((?:[\w-]+ ?){1,4})"
                               rf"|\b(?:address|one|place|where) (?:my|the) ((?:[\w-]+ ){{1,3}}?)(?:{WENT})\b")


PASSED_OVER = re.compile(r"\b(?:rather than|instead of|(?:and|but) not)(?: to| at)?\s+(?:my|the|our|his|her|their|that)\b[^.;,]*", re.I)


def address_mentioned(text: str, known: list[tuple[str, Record]], exclude: Record | None = None) -> Record | None:
    """One of the shopper's own addresses the text refers to: "my default address", "the address of
    order #W…", "the one on my luggage set order", "my NYC address from my other order".

    ``known`` holds (how it is known, address) pairs: "default", or an order's id and item names. None
    when the clearest reference is ``exclude`` itself (where it goes now), or when nothing tells one apart.
    """
    text = PASSED_OVER.sub(" ", text)  # "to my default address rather than my son's flat in Denver"
    said = text.lower()
    options = [(label, a) for label, a in known if a]
    ids = set(entities.find_order_ids(text))
    by_order = [a for label, a in options if label.split(" ", 1)[0] in ids]
    described = " ".join(next(filter(None, m.groups())) for m in _ORDER_BY_PRODUCT.finditer(said))
    named = [a for label, a in options if label != "default" and entities.named_products(described, label.split(" | ")[1:])]
    placed = [a for _, a in options if ships_to(text, a)]
    default = [a for label, a in options if label == "default"] if _DEFAULT_ADDRESS.search(said) else []
    for group in (by_order[:1], named, placed, default):
        if not group:
            continue
        distinct = {tuple(sorted(a.items())): a for a in group if not same_address(a, exclude)}
        if not distinct:
            return None  # e.g. "my home address" for an order already going there
        if len(distinct) == 1:
            return next(iter(distinct.values()))
    return None


def same_address(a: Record, b: Record | None) -> bool:
    """The same postal address, field by field (the country aside)."""
    keys = ("address1", "address2", "city", "state", "zip")
    return b is not None and all(str(a.get(k, "")) == str(b.get(k, "")) for k in keys)
