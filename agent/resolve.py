"""Resolving what the shopper said against their own store records.

Pure functions over τ²-shaped records (orders, products, payment methods as dicts), so the dialogue
can ask "which of *these* items did they mean?" without the store or a model. Reading the words
(product names, options, payment methods, "all items") is :mod:`entities`' job; this module applies
what was read to the shopper's own orders. Each function returns what it could resolve and leaves
the asking to the dialogue.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from shopagent.agent import entities

Record = Mapping[str, Any]
_T = TypeVar("_T")

_FILLER = (r"^\s*(?:(?:um+|uh+|so|well|oh|hmm+|okay|ok|right|alright|and|actually|then|please|i think|i guess)\b"
           r"[\s,.!]*)*")  # spoken lead-ins
_YES = re.compile(
    _FILLER + r"(?:y|yes|yeah|yea|yep|yup|ya|sure|ok|okay|alright|all right|correct|confirm(?:ed)?|i confirm|go ahead"
    r"|go for it|proceed|please do|do it|do that|that'?s (?:right|correct|fine|good|ok|okay)|that works|right|absolutely"
    r"|definitely|of course|sounds good|perfect|fine|great|agreed|i agree|i do|i'?m sure|why not|let'?s do (?:it|that)"
    r"|no (?:problem|worries)|not a problem|don'?t worry)\b", re.I)
_NO = re.compile(
    _FILLER + r"(?:n|no(?! (?:problem|worries))|nope|nah|(?:i )?(?:don'?t|do not)(?! (?:worry|mind))|stop|cancel that"
    r"|never ?mind|forget (?:it|that)|wait|hold on|not (?:now|yet)|i'?d rather not|i would rather not|let'?s not"
    r"|leave it|i(?:'ve| have)? changed my mind)\b", re.I)
# A yes that goes on to alter or question what was previewed ("yes, but to my visa instead", "ok, how much is
# it?") is no yes to that preview.
_YES_BUT = re.compile(r"\b(?:but|instead|rather|except|though)\b|\?", re.I)
_EXCEPT = re.compile(
    r"\b(?:except(?: for)?|but not|other than|apart from|besides|excluding|(?:but )?(?:i'?m |i am |i'?ll )?keep(?:ing)?)\b"
    # "return everything possible, not the boots": a bare "not" right after what "everything" covers
    r"|(?:(?<=everything )|(?<=everything, )|(?<=possible )|(?<=possible, )|(?<=orders )|(?<=orders, ))not\b(?= (?:the|my|those|these)\b)",
    re.I)
_LATEST = re.compile(r"\b(?:latest|most recent|more recent|last|newest|newer|recent one|later one)\b", re.I)
_EARLIEST = re.compile(r"\b(?:earliest|oldest|older|earlier one|earlier order|first one|first order)\b", re.I)
_OTHER_CARD = re.compile(r"\b(?:other|another|different|second)\s+(?:credit\s+|debit\s+)?card\b", re.I)
_SAME_METHOD = re.compile(r"\b(?:original|same (?:card|method|payment)|paid with|used to pay)\b", re.I)
_OTHER_ORDER_METHOD = re.compile(
    r"\b(?:payment|method|card|account|paid)\b[^.;]{0,30}?\b(?:other|another|different|second) order\b", re.I)


def yes_or_no(text: str) -> bool | None:
    """An explicit yes (True) or no (False) at the start of the answer, after any lead-in ("um", "okay so");
    anything else is neither (None): a change only goes ahead on an unqualified yes."""
    if _NO.search(text):
        return False
    if (yes := _YES.search(text)) and not _YES_BUT.search(text, yes.end()):
        return True
    return None


def items_mentioned(text: str, items: Iterable[Record], known: Iterable[Record] = ()) -> list[Record]:
    """Order items the text names (by name, product id or item id, "my small t-shirts"); among several
    of one product, the ones whose options fit best. ``known``: other variants (e.g. the shopper's
    other orders) whose option values the text may use to describe an item ("small" for size S)."""
    items = list(items)
    by_id = [item for item in items if item["item_id"] in entities.find_catalog_ids(text)]
    named = _named(text, items)
    chosen: list[Record] = list(by_id)
    for name in named:
        if any(item["name"] == name for item in by_id):
            continue  # "the keyboard, item 1151293680": that one
        same = _described([item for item in items if item["name"] == name], text, name, known)
        if len(same) > 1 and not entities.mentions_all_items(text):
            same = _fits(text, same)
        chosen.extend(same)
    return chosen


_PRICED_OWN = re.compile(  # "the more expensive tablet", "my cheaper one"; "for the cheapest one" is a wish
    r"(?<!\bfor )(?<!\bto )(?<!\binto )(?<!\bwith )\b(?:the|my)\s+(?:more expensive|most expensive|pricier|priciest"
    r"|cheaper|cheapest|less expensive|least expensive)\b", re.I)


# Words about the new variant, not the owned item: what it is changed to or for, a value wanted "if there
# are several" or "if possible", a preference.
_WISHED = re.compile(
    r"(?P<keep>\b(?:change|switch|modify|upgrade|replace|convert|swap|trade|exchange)\b[^.;!?]*?)\b(?:to|into|for)\b[^.;!?]*"
    r"|[^,.;:!?]*\bif (?:there (?:are|is)|possible|available|you (?:can|have))\b[^,.;!?]*"
    r"|\b(?:prefer\w*|ideally)\b[^,.;!?]*", re.I)


def _owned_words(text: str) -> str:
    """The words that can describe the shopper's own item: "change the grey backpack to a black one" →
    "change the grey backpack" ("black" is the wish)."""
    return _WISHED.sub(lambda m: (m.group("keep") or "") + " ", text)


def _fits(text: str, same: list[Record]) -> list[Record]:
    """Among several items of one product, those the text tells apart: by their options ("the gold
    one", "the one that isn't gold"), else by price ("the more expensive tablet"); all when it does not."""
    ranked = entities.rank_variants(_owned_words(text), same)
    best = ranked[0].score
    if best > ranked[-1].score:  # options tell them apart: keep only the best fits
        keep = {m.item_id for m in ranked if m.score == best}
        return [item for item in same if item["item_id"] in keep]
    if (said := _PRICED_OWN.search(text)) and (direction := price_preference(said.group())):
        top = max(direction * float(item.get("price", 0)) for item in same)
        return [item for item in same if direction * float(item.get("price", 0)) == top]
    return same


def _named(text: str, items: list[Record]) -> dict[str, float]:
    """Products of these items the text names, by name or by product id ("item 1656367028" may be one)."""
    named = _named_in(text, [{"items": items}], [{"items": items}])
    ids = entities.find_catalog_ids(text)
    named.update({item["name"]: 1.0 for item in items if item.get("product_id") in ids})
    return named


_OWNED = frozenset({"my", "the", "those", "these", "both", "all", "our", "that", "this", "any"})
_WISH_BEFORE = frozenset((w,) for w in ("for", "to", "into", "with", "otherwise", "get", "want", "prefer"))


def _described(same: list[Record], text: str, name: str, known: Iterable[Record] = ()) -> list[Record]:
    """Items of one product that fit the option values said between "my"/"the" and its name ("my small
    t-shirts", "the blue kettle"): those describe the shopper's own item ("a small one" is a wish)."""
    words, core = entities.tokens(text), entities.name_core(name)
    spans = []  # (owner word, name) per mention of the product with "my"/"the" before it
    for at in (i for i in range(1, len(words)) if words[i : i + len(core)] == core):
        owner = next((i for i in range(at - 1, max(-1, at - 5), -1) if words[i] in _OWNED), None)
        if owner is not None and words[owner - 1 : owner] not in _WISH_BEFORE:  # "for the 32GB e-reader": a wish
            spans.append((owner, at))
    vocabulary = [*same, *(v for v in known if v["name"] == name)]
    mentions = entities.find_options(text, vocabulary) if spans and same else []
    described = [[m for m in mentions if owner < m.position < at] for owner, at in spans]
    if not described or not all(described):  # a plain "the e-reader" anywhere: any of them
        return same
    return [item for item in same if any(all(
        any(str(item["options"].get(k)) == v for k, v in m.values.items()) != m.negated for m in d) for d in described)]


def unclear_items(text: str, items: Iterable[Record]) -> list[str]:
    """Products named once ("a vacuum cleaner") that the order holds several of, with nothing in the
    text telling which ("the robotic one", "both", "all of them")."""
    items = list(items)
    text = _acted_on(text, items)
    lowered = text.lower()
    unclear = []
    by_id = {item["name"] for item in items if item["item_id"] in entities.find_catalog_ids(text)}
    for name in _named(text, items):
        if name in by_id:
            continue
        same = _described([item for item in items if item["name"] == name], text, name)
        if len(same) < 2 or entities.mentions_all_items(text):
            continue
        if _several(lowered, name):
            continue
        if len(_fits(text, same)) == len(same):
            unclear.append(name)
    return unclear


def _several(lowered: str, name: str) -> bool:
    """The product is named in the plural or with "both"/"two"/"all" ("the vacuum cleaners", "both tablets")."""
    head = re.escape(name.lower().split()[-1])
    spoken = entities.spoken_to_digits(lowered)  # a zip code said as "three two two" is not "two"
    return re.search(rf"\b{head}(?:s|es)\b|\b(?:both|2|all|each|pair)\b", spoken) is not None


# "If that fails" / "otherwise": the words after it are the shopper's fallback, another change or leaving the
# item alone. One cue for both readers (:func:`fallback_request`, :func:`leaves_alone`).
_NEG = r"(?:not|no longer|cannot|\w+n['’]t|(?:do|does|did|is|are|was|were|ca|could|would|wo|should|has|have|had)nt)"
_CAN = (r"(?:available|possible|allowed|permitted|work\w*|exist\w*|in stock|find\w*|found|ha(?:ve|s)(?: it| one)?"
        r"|do(?: it| that| this)?|be (?:done|found|used|swapped|exchanged|changed|modified)|go(?:es)? through)")
_FALLBACK = re.compile(
    r"\b(?:(?P<cue>if(?:\s+[\w'’-]+){0,4}?\s+(?:" + _NEG + r"(?:\s+\w+){0,2}?\s+" + _CAN
    + r"|unavailable|impossible|out of stock|sold out)|if (?:you|we|it|that|this|they) (?:can'?t|cannot|couldn'?t|won'?t|doesn'?t)"
    r"|if there(?:'s| is| are) no)\b"
    # up to the fallback's own verb, which spoken text marks with no comma: "if it can't be swapped return it"
    r"[^,.;]*?(?=[,.;]|$|\s+(?:then\s+)?(?:please\s+)?(?:just\s+)?(?:cancel|return|remove|send|refund|keep|leave|skip"
    r"|forget|never ?mind|don'?t)\b)"
    r"|if not|otherwise|or else|failing that)\b[,:]?", re.I)
# flow: (its verbs, the order statuses it can act on; None: any)
_FALLBACK_FLOWS: dict[str, tuple[str, tuple[str, ...] | None]] = {"cancel_order": (r"cancel|remove", ("pending",)), "return_item": (r"return|send (?:\w+ ){0,2}back", ("delivered",)),
                   "human_agent": (r"human|person|representative|manager|supervisor|(?:real|live) agent", None)}


def fallback_request(text: str, status: str) -> tuple[str, str] | None:
    """What to do instead when the asked change is impossible ("if that's not available, cancel the
    order", "if you can't, get me a human"): the first fallback this order's status allows, as (flow, its words)."""
    marks = list(_FALLBACK.finditer(text))
    for mark, after in zip(marks, [*marks[1:], None]):
        clause = text[mark.end() : after.start() if after else len(text)]
        for flow, (verbs, statuses) in _FALLBACK_FLOWS.items():
            if (statuses is None or status in statuses) and re.search(rf"\b(?:{verbs})\b", clause, re.I):
                return flow, clause
    return None


@dataclass(frozen=True)
class PriceCondition:
    """"If it costs more than $300, remove it": the change is wanted only when the price the store
    knows is on the stated side of the bound, so code checks it before anything is done."""

    low: float | None
    high: float | None
    inclusive: bool  # "at least $50", "$50 or more"
    about_total: bool  # "if the order total is over …", else the items the request is about

    def holds(self, price: float) -> bool:
        above = self.low is None or price > self.low or (self.inclusive and price == self.low)
        below = self.high is None or price < self.high or (self.inclusive and price == self.high)
        return above and below

    def bound(self) -> str:
        if self.low is not None and self.high is not None:
            return f"between ${self.low:,.2f} and ${self.high:,.2f}"
        if self.low is not None:
            return f"{'at least' if self.inclusive else 'more than'} ${self.low:,.2f}"
        return f"{'at most' if self.inclusive else 'less than'} ${self.high:,.2f}"


_IF = re.compile(r"\b(?:if|only if|as long as|provided)\s+(?=(?:it|its|it'?s|this|that|they|they'?re|the|my)\b)", re.I)
_IF_ELSEWHERE = re.compile(r"\b(?:there|you|one|ones|any|available|find|have|stock)\b", re.I)  # about the catalog
_TOTAL = re.compile(r"\b(?:total|whole|entire|order|altogether|together|combined|in all)\b", re.I)


def price_condition(text: str) -> PriceCondition | None:
    """A condition on the price of what the shopper owns ("if it's more than $300", "if the total is
    under a thousand dollars"); not one about the catalog ("if there's one under $50")."""
    for mark in _IF.finditer(text):
        clause = re.split(r",\s|[;!?]|\.(?!\d)", text[mark.end():], maxsplit=1)[0]
        # spoken text has no comma before the request itself: the condition ends where the request starts
        clause = re.split(rf"{_ACTION.pattern}|\b(?:please|then|just|only|go ahead)\b", clause, maxsplit=1, flags=re.I)[0]
        low, high = entities.find_price_bounds(clause)
        spoken = entities.spoken_to_digits(clause)  # "one hundred" is no "one"
        if (low is None and high is None) or _IF_ELSEWHERE.search(spoken):
            continue
        inclusive = re.search(r"\bat (?:least|most)\b|\bor (?:more|less|above|below|over|under)\b", spoken) is not None
        return PriceCondition(low, high, inclusive, _TOTAL.search(clause) is not None)
    return None


_WHOLE = r"(?:the |my |this |that )?(?:whole|entire|full|complete)(?: order| thing)?\b"
_WHOLE_NOT = re.compile(rf"\b(?:never|not|don'?t|do not|no need to|without)\b(?:\s+\w+){{0,3}}?\s+cancel\w*\s+(?:{_WHOLE}|(?:the|my|this|that) order\b)"
                        r"|\bnot the (?:whole|entire) order\b|\bkeep the (?:rest of the )?order\b", re.I)
# "remove it, or cancel the order if that's the only way": the order offered as the fallback is the whole one
_WHOLE_YES = re.compile(rf"\bcancel\w*\s+{_WHOLE}|\bor\s+(?:else\s+)?cancel\w*\s+(?:the|my|this|that)\s+order\b"
                        r"|\bcancel\w*\s+(?:the|my|this|that)\s+order\s+if\b(?=[^.;?!]*\b(?:only|have to|must|need|necessary)\b)", re.I)
_ONLY = re.compile(r"\b(?:just|only(?!\s+(?:way|option|choice)\b)|except|but not|other than|apart from|excluding|keep(?:ing)?)\b", re.I)


def whole_order_cancel(text: str) -> bool | None:
    """Whether the shopper lets a pending order be cancelled as a whole when only some of its items
    were asked for: True ("if you can't cancel just some items, cancel the whole order"), False
    ("but never cancel the whole order", "just the speaker", "everything except the boots"), None unsaid."""
    if _WHOLE_NOT.search(text):
        return False
    if _WHOLE_YES.search(text):
        return True
    return False if _ONLY.search(before_fallback(text)) else None


def items_to_cancel(text: str, items: list[Record]) -> list[Record]:
    """The items of a pending order a cancellation asks for, leaving out what is said about the whole
    order ("remove just the speaker, but never cancel the whole order": the speaker) and any fallback."""
    return chosen_items(before_fallback(_WHOLE_NOT.sub(" ", _WHOLE_YES.sub(" ", text))), items)


_EITHER_WAY = re.compile(r"\bcancel\w*\s+or\s+return|\breturn\w*\s+or\s+cancel", re.I)


def cancel_or_return(text: str) -> bool:
    """"Cancel or return every order I can": pending orders are cancelled, delivered ones returned."""
    return _EITHER_WAY.search(text) is not None


def without_exclusion(text: str) -> str:
    """The words before any "except …" ("return everything except the boots": "return everything")."""
    exception = _EXCEPT.search(text)
    return text[: exception.start()] if exception else text


def excluded_items(text: str, items: list[Record]) -> list[Record]:
    """The items the words leave out ("every order I can, except the boots"): never to be changed."""
    exception = _EXCEPT.search(text)
    return items_mentioned(text[exception.end():], items) if exception else []


_DESCRIBED_SCOPE = re.compile(
    r"\b(?:everything|anything|whatever|all (?:the |my |of my )?(?:items|things|stuff|products|purchases))\b"
    r"(?:\s+(?:i|we)\s+(?:have\s+)?(?:bought|ordered|purchased|got))?\s+"
    r"(?:that|which)\s*(?:'s|is|isn'?t|are|aren'?t|was|wasn'?t|has|have|doesn'?t|don'?t)\b(?P<what>[^.;,!?]*)"
    r"|\b(?:except|but not|other than|apart from|excluding)\s+(?:for\s+)?(?:the |my |any )?(?P<kind>[\w-]+(?: [\w-]+)?"
    r" (?:stuff|things|gear|items|products|related|ones))\b"
    r"|\b(?:all|any|every)(?: of)?(?: the| my)? (?P<adj>[\w-]+(?: related)?) (?:stuff|things|gear)\b"
    r"|\b(?:anything|everything|whatever) (?P<rel>[\w-]+ related)\b", re.I)


def described_scope(text: str) -> str | None:
    """Items chosen by a description the store's records cannot check ("everything that isn't gaming
    related", "all my purchases except the gaming stuff"): the description, so the dialogue asks which
    items are meant instead of guessing. Descriptions by order ("everything that's in my order") are not."""
    for match in _DESCRIBED_SCOPE.finditer(text):
        what = next((w.strip() for w in match.group("what", "kind", "adj", "rel") if w), "")
        if what and not re.search(r"^(?:in|on|from|of|left|still|the|my|other|rest|remaining|this|that|those|these)\b"
                                  r"|\border", what, re.I):
            return what
    return None


def without_described_scope(text: str) -> str:
    """The words without the description (once the shopper has named the items it meant)."""
    return _DESCRIBED_SCOPE.sub(" ", text)


_REFERS_BACK = re.compile(r"\b(?:those|these|the same|such)\s+(?:items?|products?|things?|ones?)\b"
                          r"|\bwith (?:them|those|these)\b", re.I)


def refers_back(text: str) -> bool:
    """"Any other order with those items": the products of the changes made earlier."""
    return _REFERS_BACK.search(text) is not None


_ACTION = re.compile(r"\b(?:return|send (?:\w+ ){0,2}back|exchange|swap|trade|replace|change|modify|switch|upgrade|cancel|remove)\b", re.I)
_WANTS_GONE = re.compile(r"\b(?:refund\w*|get rid of|(?:no longer|don'?t|do not) (?:need|want))\b", re.I)


def asks_item_change(text: str) -> bool:
    """The words ask to do something to an item ("return it", "I no longer need the boots"), not just
    describe it ("I received two tablets but I only need one")."""
    return bool(_ACTION.search(text) or _WANTS_GONE.search(text))


_ACTIONS = {
    "return": r"return|send (?:\w+ ){0,2}back",
    "exchange": r"exchange|swap|trade|replace|change|switch|upgrade",
    "change": r"change|modify|switch|swap|upgrade|replace|exchange",
    "cancel": r"cancel|remove",
}


def action_asked(text: str) -> str | None:
    """The first item action the words ask for: "return", "exchange" or "cancel"; None without a verb."""
    verb = _ACTION.search(text)
    if verb is None:
        return None
    return next((a for a in ("return", "cancel", "exchange") if re.fullmatch(_ACTIONS[a], verb.group(), re.I)), None)


def clauses_for(action: str, text: str) -> str:
    """The words of a message about one action: "return the bottle and exchange the bed" → for
    "return", "return the bottle". Words before any action verb belong to every action."""
    marks = list(_ACTION.finditer(text))
    own = re.compile(rf"(?:{_ACTIONS[action]})", re.I)
    parts = [text[m.start() : after.start() if after else len(text)]
             for m, after in zip(marks, [*marks[1:], None]) if own.fullmatch(m.group())]
    if not marks or not parts:
        return text
    return " ".join([text[: marks[0].start()], *parts])


# Words telling an order by another item in it ("the backpack I received with the vacuum", "the lamp from
# the order with the kettle"): that item is no item to act on.
_ALONG_WITH = re.compile(
    r"\b(?:(?:order|one|package|parcel|box|shipment|delivery)\s+(?:that\s+(?:has|had|holds|came with)|with|containing)"
    r"|(?:received|got|came|bought|ordered|purchased|delivered|arrived|shipped)\s+(?:together\s+|along\s+)?with)\b"
    r"(?:(?!\b(?:and|but|plus|also)\b)[^.;!?,])*", re.I)


def _acted_on(text: str, items: list[Record]) -> str:
    """The words naming the items to act on: without those naming another item only to tell the order,
    unless nothing else is named."""
    rest = _ALONG_WITH.sub(" ", _SAME_AS.sub(" ", text))
    return rest if rest != text and (_named(rest, items) or entities.find_catalog_ids(rest)) else text


def chosen_items(text: str, items: list[Record], known: Iterable[Record] = (), status: str | None = None) -> list[Record]:
    """The items the text selects: named ones, all of them, or all except the named ones (``known``:
    see :func:`items_mentioned`); with the order's ``status``, not those the text places elsewhere
    ("the grill I just ordered" is no grill of a delivered order)."""
    text = _acted_on(text, items)
    here = [item for item in items if _placed(text, item["name"]) in (None, status)]
    if status is not None and items_mentioned(text, here):  # unless that leaves nothing named
        items = here
    exception = _EXCEPT.search(text)
    if exception and (entities.mentions_all_items(text[: exception.start()])
                      or re.search(r"\b(?:all|every\w*|each)\b", text[: exception.start()], re.I)):
        excluded = {item["item_id"] for item in items_mentioned(text[exception.end():], items, known)}
        return [item for item in items if item["item_id"] not in excluded]
    if entities.mentions_all_items(text):
        return list(items)
    return items_mentioned(text, items, known)


def _placed(text: str, name: str) -> str | None:
    """The order status the words right after the product's name give it: "the grill I just ordered",
    "the hose in my pending order" (pending), "the lamp I received" (delivered); None when unsaid."""
    words = {w for w in re.findall(r"[a-z]+", name.lower()) if len(w) > 3}
    found = set()
    for at in (m for m in re.finditer(r"[a-z]+", text.lower()) if m.group().rstrip("s") in words or m.group() in words):
        after = re.match(r"(?:\s+(?!(?:and|but|or|to|for|then)\b)[\w']+){1,6}", text[at.end():], re.I)
        window = after.group() if after else ""
        if _ON_ORDER.search(window):
            found.add("pending")
        elif _RECEIVED.search(window):
            found.add("delivered")
    return found.pop() if len(found) == 1 else None


_ALL_ORDERS = re.compile(
    r"\b(?:all|both|every|each)\b(?:\s+(?:of|my|the|those|these))*(?:\s+\w+)?\s+orders?\b"
    r"|\bevery(?:thing| item)? (?:that )?i(?: have)? (?:ordered|bought|purchased)\b"
    r"|\b(?:my|the) (?:other|remaining) orders\b|^\W*(?:all|both) of them\b", re.I)  # "all of them": answering "which order?"
_NOT_THIS = re.compile(r"\b(?:not|except(?: for)?|but not|other than|apart from|excluding)\b", re.I)


# Orders named only as where something is found ("it's on my other orders", "my NYC address from my other
# orders"), not as the orders to act on.
_ORDERS_AS_SOURCE = re.compile(r"\b(?:(?:it'?s|it is|that'?s|which is|as|like|found|listed)\s+(?:on|in)|from|used (?:on|in|for))"
                               r"\s+(?:all\s+)?(?:my|the)\s+(?:other|previous|older|past)\s+orders\b", re.I)


def mentions_all_orders(text: str) -> bool:
    """True for "all my pending orders", "both of my orders", "everything I ordered", "my other orders"."""
    return _ALL_ORDERS.search(_ORDERS_AS_SOURCE.sub(" ", entities.spoken_to_digits(text))) is not None


# An order only referred to: the source of an address ("to the address of #W…", "same as #W…"), while
# "change the address of #W… to" names the order to change.
_REFERENCE = re.compile(
    r"\b(?:same(?: \w+)? as|like|used (?:for|on|in)|(?:to|use|using|copy|with|from)\s+(?:the |my |that )?(?:\w+\s+){0,3}?"
    r"(?:address|one) (?:of|on|from|in|for))\s+(?:the |my |that )?(?:order\s*)?$", re.I)


def orders_named(text: str) -> list[str]:
    """Order ids the request is about, leaving out those only referred to ("the same address as order #W…")."""
    found = entities.find_order_ids(text)
    digits = entities.spoken_to_digits(text)  # "order w eight two …" said aloud
    referred = set()
    for order_id in found:
        at = re.search(r"#?\s*w\s*" + r"\s*".join(order_id[2:]), digits, re.I)
        if at and _REFERENCE.search(digits[: at.start()]):
            referred.add(order_id)
    return [i for i in found if i not in referred]


_FLOW_VERBS = {"cancel_order": _ACTIONS["cancel"], "modify_order": _ACTIONS["change"] + "|update|move|ship|send|set",
               "return_item": _ACTIONS["return"], "exchange_item": _ACTIONS["exchange"]}


def orders_asked(flow: str, text: str) -> list[str]:
    """Order ids named in the sentences that ask for this flow's action: in "#W1 and #W2 are late,
    cancel the older one. Also change the address of #W1 to …", the change is about #W1."""
    if flow not in _FLOW_VERBS:
        return []
    verbs = re.compile(rf"\b(?:{_FLOW_VERBS[flow]})\b", re.I)
    return [i for sentence in re.split(r"(?<=[.!?;])\s+", text) if verbs.search(sentence) for i in orders_named(sentence)]


def orders_meant(text: str, candidates: list[Record], others: list[Record] = ()) -> tuple[list[Record], bool]:
    """The orders the text points at, and whether it means several of them at once.

    An order is pointed at by what it holds ("the one with the two tablets", "not the one with the
    grill"), where it ships ("my order going to Seattle"), its age ("the latest one"), or all of them
    ("both orders"). Products named across orders, none holding them all ("the skateboard and the
    garden hose"), mean each of those orders in turn. Returns every candidate, not several, when the
    text does not tell them apart, and none when it names only products of ``others`` (the shopper's
    orders that do not qualify).
    """
    if len(candidates) == 1 and _names_only_others(without_exclusion(text), candidates[0], others):
        return [], False
    if len(candidates) <= 1:
        return candidates, False
    pool = candidates
    unconditional = _FALLBACK.sub(lambda cue: " " * len(cue.group()), text)  # "if that's not possible" excludes nothing
    if (negation := _NOT_THIS.search(unconditional)) is not None and not _ALL_BUT.search(text[: negation.start()]):
        excluded = [o for o in pool if _named_in(text[negation.end():], [o], pool)]
        if excluded and len(excluded) < len(pool):
            pool, text = [o for o in pool if o not in excluded], text[: negation.start()]
    if (source := _ADDRESS_SOURCE.search(text)) is not None:  # "change it to the address on my tablet order"
        part = "source" if source.group("source") else "went"
        sources = [o for o in pool if _named_in(source.group(part), [o], pool)]
        if sources and len(sources) < len(pool):
            pool, text = [o for o in pool if o not in sources], text[: source.start(part)] + text[source.end():]
    shipped = [o for o in pool if any(ships_to(_origin(text), a) for a in [o.get("address") or {}, *o.get("former_addresses", ())])]
    if shipped and len(shipped) < len(pool):
        pool = shipped
    if (status := status_named(text)) is not None:  # "my cancelled order", "the one still pending"
        in_status = [o for o in pool if o["status"].startswith(status)]
        pool = in_status if in_status and len(in_status) < len(pool) else pool
    if mentions_all_orders(text):
        return pool, True
    named = _named_in(text, pool, pool)
    known = [i for o in [*candidates, *others] for i in o["items"]]  # "my small t-shirts": sizes of all their shirts
    holding = {name: [o for o in pool if any(i["name"] == name for i in items_mentioned(text, o["items"], known))] for name in named}
    full = [o for o in pool if all(o in holders for holders in holding.values())] if holding else []
    if holding and not full and all(len(h) == 1 for h in holding.values()):
        return [o for o in pool if any(o in h for h in holding.values())], True
    if len(holding) == 1 and (price := price_preference(text)):  # "return the more expensive one" of two tablets
        (name, holders), = holding.items()
        priced = [(price * i["price"], o) for o in holders for i in o["items"] if i["name"] == name]
        return [max(priced, key=lambda p: p[0])[1]], False
    if len(holding) == 1 and len(next(iter(holding.values()))) > 1 and _several(text.lower(), next(iter(holding))):
        return next(iter(holding.values())), True  # "both laptops", one in each order
    fits = {o["order_id"]: _fit(text, o, pool) for o in pool}
    best = max(fits.values())
    if best > (0, 0, 0.0) and sum(f == best for f in fits.values()) == 1:
        return [o for o in pool if fits[o["order_id"]] == best], False
    if (recent := pick_by_recency(text, pool)) is not None:
        return [recent], False
    return pool, False


_STATUS_WORDS = {"cancelled": "cancelled", "canceled": "cancelled", "pending": "pending", "delivered": "delivered",
                 "received": "delivered", "processed": "processed", "returned": "return requested"}
_STATUS_NAMED = re.compile(
    rf"\b(?P<before>{'|'.join(_STATUS_WORDS)})\s+(?:(?!(?:my|the|your|this|that|an?)\b)\w+\s+)?(?:order|one|purchase)s?\b"
    rf"|\b(?:order|one|purchase)s?\s+(?:that\s+)?(?:(?:is|was|are|were|got|still|already|i)\s+){{0,2}}(?P<after>{'|'.join(_STATUS_WORDS)})\b",
    re.I)


def status_named(text: str) -> str | None:
    """The order status the words give the order ("my cancelled order", "the one that was delivered"),
    as the store spells it; None when none or several are said."""
    said = {_STATUS_WORDS[(m.group("before") or m.group("after")).lower()] for m in _STATUS_NAMED.finditer(text)}
    return said.pop() if len(said) == 1 else None


_WENT = r"went|was sent|was shipped|got sent|is going|goes|ships"  # "the one my luggage set went to"
_ALL_BUT = re.compile(r"\b(?:all|every|everything|whole)\b", re.I)  # "all items except the lamp": items, not orders
_SENT = r"(?:sent|shipped|ship(?:s|ping)|going|gone|went|delivered|mailed|headed|heading|addressed)"


# An order whose address is to be copied, named after the new address is introduced: "change it to my new
# home, the address on my tablet order" (while "change the address of my tablet order to …" is the target).
_ADDRESS_SOURCE = re.compile(r"\b(?:to|use|using|as|like|from)\b[^.;]*?\b(?:(?:address|one) (?:on|of|from|in|for) "
                             r"(?P<source>[^.,;]*?\border)\b|(?:address|one|place|where) (?P<went>(?:my|the) (?:[\w-]+ ){1,3}?)"
                             rf"(?:{_WENT})\b)", re.I)


def _origin(text: str) -> str:
    """The words that can say where an order ships now: "the one sent to my son in Denver" keeps "Denver",
    "change it to my address in Austin" drops "Austin" (that is the new address, not this order's)."""
    return re.sub(rf"(\b{_SENT}\s+)?\b(?:to|at) (?:my|the|our)\b[^.,;]*",
                  lambda m: m.group() if m.group(1) else " ", text, flags=re.I)


def _named_in(text: str, orders: list[Record], among: list[Record]) -> dict[str, float]:
    """Products of ``orders`` the text names: by name, head noun or a short form no other product of
    ``among`` shares and no item's option is (:func:`entities.named_products`: "the jigsaw" for "Jigsaw
    Puzzle", not "electric" while a grill is electric)."""
    names = dict.fromkeys(i["name"] for o in among for i in o["items"])  # in order, so items keep theirs
    taken = {str(v) for o in among for i in o["items"] for v in i["options"].values()}
    found = entities.named_products(text, names, taken)
    own = {i["name"] for o in orders for i in o["items"]}
    return {name: score for name, score in found.items() if name in own}


def _names_only_others(text: str, order: Record, others: list[Record]) -> bool:
    named = _named_in(text, [order, *others], [order, *others])
    return bool(named) and not any(i["name"] in named for i in order["items"])


def _fit(text: str, order: Record, among: list[Record]) -> tuple[int, int, float]:
    """How well an order fits the words: products named, items named, then how well their options fit."""
    items = items_mentioned(text, order["items"])
    partly = _named_in(text, [order], among).keys() - {i["name"] for i in items}  # "the jigsaw"
    items += [i for i in order["items"] if i["name"] in partly]
    # ranked beside the same products' items in the other orders, so "32GB" is read as a value of theirs too
    rivals = [i for o in among if o is not order for i in o["items"] if i["name"] in {x["name"] for x in items}]
    mine = {i["item_id"] for i in items}
    ranked = [m for m in entities.rank_variants(_owned_words(text), items + rivals) if m.item_id in mine]
    return len({i["name"] for i in items}), len(items), ranked[0].score if ranked else 0.0


def pick_by_recency(text: str, candidates: Sequence[_T]) -> _T | None:
    """"the latest one", "the older of the two", "my first order": candidates are in the order they
    were placed (the store keeps each shopper's orders in that order)."""
    if _LATEST.search(text):
        return candidates[-1]
    if _EARLIEST.search(text):
        return candidates[0]
    return None


# Option values that have an order without a number in them ("low" < "medium" < "high").
_ORDINAL = {"xs": 0, "s": 1, "small": 1, "portable": 0, "m": 2, "medium": 2, "l": 3, "large": 3, "xl": 4, "xxl": 5,
            "low": 1, "high": 3, "beginner": 1, "intermediate": 2, "expert": 3, "basic": 1, "professional": 2,
            "standard": 1, "high-back": 2}
_UP = ("more", "higher", "bigger", "larger", "greater", "longer", "taller", "brighter", "harder", "heavier",
       "thicker", "max", "maximum", "highest", "most", "biggest", "largest", "longest", "tallest", "brightest",
       "hardest", "heaviest", "thickest", "fancier", "upgrade")
_DOWN = ("less", "lower", "smaller", "fewer", "shorter", "dimmer", "easier", "lighter", "thinner", "min", "minimum",
         "lowest", "least", "smallest", "fewest", "shortest", "easiest", "dimmest", "lightest", "thinnest", "simpler",
         "simplest")
_EXTREME = frozenset(w for w in (*_UP, *_DOWN) if w.endswith("est") or w in ("max", "maximum", "min", "minimum"))
# Words that say which option a comparison is about ("less bright": brightness; "bigger": size or capacity).
_ABOUT = {"bright": ("brightness",), "dim": ("brightness",), "big": ("size", "capacity"), "larg": ("size", "capacity"),
          "small": ("size", "capacity"), "long": ("length",), "short": ("length",), "tall": ("height",),
          "thick": ("thickness",), "thin": ("thickness",), "heavi": ("weight",), "light": ("weight",),
          "easi": ("difficulty",), "simpl": ("difficulty",), "hard": ("difficulty",), "difficult": ("difficulty",),
          "piec": ("piece",), "zoom": ("zoom",), "resolut": ("resolution",), "storag": ("storage",),
          "capacit": ("capacity",), "pressur": ("pressure",), "batter": ("battery",), "screen": ("screen",),
          "frame": ("frame size",), "ventil": ("ventilation",), "ram": ("ram",), "memory": ("ram",)}
_PRICE_UP = re.compile(r"\b(?:more expensive|most expensive|pricier|priciest|costlier|highest[- ]priced)\b")
_PRICE_DOWN = re.compile(r"\b(?:cheaper|cheapest|less expensive|least expensive|lowest[- ]priced|inexpensive)\b")


def price_preference(text: str) -> int:
    """+1 for "the more expensive one" / "most expensive version", -1 for "cheaper" / "cheapest", else 0."""
    lowered = text.lower()
    return 1 if _PRICE_UP.search(lowered) else -1 if _PRICE_DOWN.search(lowered) else 0


def ordinal(value: Any) -> float | None:
    """Where an option value sits on its scale: "1000ml" 1000, "4K" 4000, "medium" 2; None if unordered."""
    text = str(value).lower()
    if text in _ORDINAL:
        return float(_ORDINAL[text])
    number = re.match(r"(\d+(?:\.\d+)?)\s*(k\b)?", text)
    return float(number.group(1)) * (1000 if number.group(2) else 1) if number else None


@dataclass(frozen=True)
class Relative:
    """A change asked relative to the current item: "less bright", "maximum zoom", "1000 more pieces"."""

    key: str
    direction: int  # +1 up, -1 down
    extreme: bool  # "the maximum zoom", not just "more zoom"
    by: float | None = None  # "1000 more pieces": exactly this much


def relative_wants(text: str, options: Mapping[str, Any]) -> list[Relative]:
    """The comparisons in the text that apply to the ordered options of one product (its option values)."""
    words = re.sub(r"[^a-z0-9. ]+", " ", entities.spoken_to_digits(text)).split()
    wants: list[Relative] = []
    for i, word in enumerate(words):
        if word not in _UP and word not in _DOWN:
            continue
        if words[i + 1 : i + 2] in (["expensive"], ["pricey"], ["costly"]):
            continue  # price, see price_preference
        direction = 1 if word in _UP else -1
        by = float(words[i - 1]) if i and re.fullmatch(r"\d+(?:\.\d+)?", words[i - 1]) else None
        for about in (word, *words[i + 1 : i + 3]):
            key = _key_about(about, options)
            if key is not None:
                wants.append(Relative(key, direction, word in _EXTREME, by))
                break
    extremes = {w.key for w in wants if w.extreme}  # "more zoom, the highest": the highest
    return [w for w in wants if w.extreme or w.key not in extremes]


def _key_about(word: str, options: Mapping[str, Any]) -> str | None:
    """The ordered option a word is about ("bright" → brightness), if this product has it."""
    ordered = [k for k, v in options.items() if ordinal(v) is not None]
    for stem, hints in _ABOUT.items():
        if word.startswith(stem):
            for hint in hints:
                found = [k for k in ordered if hint in k.lower()]
                if found:
                    return min(found, key=len)  # "size" before "frame size"
    return None


_FIRST_UNIT = re.compile(r"\b(?:first|1st)\b|\bone\b(?= (?:for|to|into|with|should|in)\b)", re.I)
_LATER_UNIT = re.compile(r"\b(?:the other|second|2nd|third|3rd)\b", re.I)
_DESCRIBED = re.compile(r"\b(?:a|an|the|that|this|same)\s+(?:\S+\s+){0,4}$", re.I)  # "a 1.5 liter one": not a unit


def unit_wishes(text: str, units: int) -> list[str] | None:
    """What each of several identical items should become: "my two kettles: one for a ceramic one, the
    other for a 1.5 liter one" → the words for each, in order; None unless the text tells all apart."""
    marks = sorted([(m.start(), True) for m in _FIRST_UNIT.finditer(text)
                    if m.group().lower() != "one" or not _DESCRIBED.search(text[: m.start()])]
                   + [(m.start(), False) for m in _LATER_UNIT.finditer(text)])
    groups: list[list[str]] = []
    for (start, first), (end, _) in zip(marks, [*marks[1:], (len(text), False)]):
        if first:
            groups.append([])
        if groups:
            groups[-1].append(text[start:end])
    complete = [g for g in groups if len(g) == units]
    return complete[-1] if complete else None


_KEEP = re.compile(r"\b(?:same|keep(?:ing)?(?: the)?|still)\s+(\w+(?:\s\w+)?(?:(?:,| and| &) \w+)*)", re.I)


def choose_variant(text: str, current: Record, variants: Iterable[Record], *, strict: bool = False) -> Record | None:
    """The available variant that best fits what the shopper asked for.

    An item id of this product said in the text ("for item 4107812777") is that variant. Otherwise
    every option value the shopper states must hold ("clicky, RGB, full size": no 80% one instead),
    except values only describing the current item ("the blue one … a red one") and soft ones
    ("i5 over i7", "polyester if possible", "prefer silver"). Among the variants that hold them, asked
    values the current item lacks count first (between alternatives, the one said first), then
    comparisons with the current item ("less bright", "one size smaller": the nearest step; "the
    maximum zoom": the extreme), then the soft preferences, then price ("the cheapest"), then keeping
    the current item's other options. "Same size" / "keep the material" keep those. None when no
    variant holds what was stated (see :func:`missing_wishes`), when the text asks for no change this
    product can make, or, ``strict``, when the best fit would also change an option the shopper did
    not talk about (so the dialogue shows the choices first).
    """
    candidates = _candidates(current, variants)
    ids = entities.find_catalog_ids(text)
    if named := [v for v in variants if v["item_id"] in ids and v["item_id"] != current["item_id"]]:
        return candidates.get(named[0]["item_id"])  # None when that one is not available
    ranked = _ranked(text, current, list(candidates.values()))
    if not ranked:
        return None
    _, choice, asked = max(ranked, key=lambda r: r[0])  # the first of equals, in catalog order
    if strict and not price_preference(text):
        if any(choice["options"].get(k) != v for k, v in current["options"].items() if k not in asked):
            return None
    return choice


def alternatives(text: str, current: Record, variants: Iterable[Record]) -> list[Record]:
    """The variants that fit the stated wishes exactly as well as the one :func:`choose_variant` takes,
    differing only in price or in options the shopper did not talk about (a shorter bamboo deck comes
    plain, graphic or custom): what the choice was made between, so the shopper hears them and their
    prices. Empty when an item id was named or only one fits."""
    if entities.find_catalog_ids(text):
        return []
    ranked = _ranked(text, current, list(_candidates(current, variants).values()))
    if not ranked:
        return []
    best = max(score for score, _, _ in ranked)[:4]
    tied = [variant for score, variant, _ in ranked if score[:4] == best]
    return tied if len(tied) > 1 else []


def _ranked(text: str, current: Record, candidates: list[Record]) -> list[tuple[tuple[Any, ...], Record, set[str]]]:
    """Each candidate holding every stated wish, with its fit (see :func:`choose_variant`) and the
    options the shopper talked about."""
    if not candidates:
        return []
    mine = current["options"]
    wants = relative_wants(text, mine)
    price = price_preference(text)
    keep = {k for m in _KEEP.finditer(text) for k in mine if _stem_in(m.group(1), k)}
    wishes = _wishes(text, mine, candidates)
    ranked: list[tuple[tuple[Any, ...], Record, set[str]]] = []
    for variant in candidates:
        options = variant["options"]
        if any(options.get(k) != mine.get(k) for k in keep):
            continue
        if any(options.get(k) == v for m in wishes.ruled_out for k, v in m.values.items()):
            continue
        if not all(_holds(options, need) for need in wishes.required):
            continue
        said: dict[str, int] = {}  # option changed to a value asked -> where it was first asked
        for mention in wishes.hard:
            for k, v in mention.values.items():
                if options.get(k) == v != mine.get(k) and k not in said:
                    said[k] = mention.position
        steps = _steps(wants, mine, options)
        if steps is None or not (said or wants or price or wishes.soft):
            continue
        if price and not (said or wants) and price * (float(variant["price"]) - float(current.get("price", 0))) <= 0:
            continue  # "the cheapest one" when this is already the cheapest: nothing to change
        liked = sum(weight for m, weight in wishes.soft if any(options.get(k) == v for k, v in m.values.items()))
        kept = sum(mine.get(k) == v for k, v in options.items())
        score = (len(said), steps, liked, -sum(said.values()), price * float(variant.get("price", 0)), kept)
        ranked.append((score, variant, {*said, *(w.key for w in wants), *(k for m, _ in wishes.soft for k in m.values)}))
    return ranked


# "the same type as the one I already received", "same color as the hose in my pending order": another owned
# item is the model (a reference naming where it is, not "the same size as now").
_SAME_AS = re.compile(r"\bsame\s+(?P<what>(?:[\w-]+\s+){0,2}?)as\s+(?P<ref>[^.;!?]*?\b(?:other|another|order|received|got|"
                      r"delivered|ordered|bought|purchased|pending)\b[^.;!?,]*)", re.I)
_ON_ORDER = re.compile(r"\b(?:pending|(?:just|recently) ordered|on (?:its|the) way|not (?:\w+ )?(?:arrived|delivered|shipped))\b", re.I)
_KIND_WORDS = re.compile(r"\b(?:type|kind|model|version|variant|one|item|thing|specs?)\b", re.I)
_RECEIVED = re.compile(r"\b(?:received|got|delivered|arrived|already (?:have|own))\b", re.I)


def copied_options(text: str, current: Record, owned: Iterable[tuple[str, Record]]) -> dict[str, str]:
    """The option values to copy from another owned item of this product, when the shopper asks for
    "the same type as the one I already received" (all its options) or "the same color as my other
    mug" (those named): ``owned`` holds (its order's status, item) for each of their items. Nothing
    unless exactly one other variant fits the reference."""
    said = _SAME_AS.search(text)
    if said is None:
        return {}
    ref = said.group("ref")
    others = [(status, i) for status, i in owned
              if i.get("product_id") == current.get("product_id") and i["options"] != current["options"]]
    if _ON_ORDER.search(ref):
        others = [(s, i) for s, i in others if s.startswith("pending") or s == "processed"]
    elif _RECEIVED.search(ref):  # still received when an exchange or return of another item was asked since
        others = [(s, i) for s, i in others if s in ("delivered", "exchange requested", "return requested")]
    models = {tuple(sorted((k, str(v)) for k, v in i["options"].items())) for _, i in others}
    if len(models) != 1:
        return {}
    model = dict(models.pop())
    what = "" if _KIND_WORDS.search(said.group("what")) else said.group("what")  # "the same type/model": all of it
    keys = [k for k in model if _stem_in(what, k)]
    return {k: model[k] for k in keys} if keys else model


def variant_with(options: Mapping[str, str], current: Record, variants: Iterable[Record]) -> Record | None:
    """The available variant holding these option values, keeping as many of the current item's others
    as it can; None when none is available."""
    fits = [v for v in _candidates(current, variants).values()
            if all(str(v["options"].get(k)) == value for k, value in options.items())]
    mine = current["options"]
    return max(fits, key=lambda v: sum(str(mine.get(k)) == str(x) for k, x in v["options"].items()), default=None)


def words_about(text: str, name: str, names: Iterable[str]) -> str:
    """The words about one product when a message asks for several changes ("my helmet for a red one,
    and the luggage set for a black one" → the helmet's "for a red one"): the clauses naming it and
    those after them naming no other product, plus the opening words naming none; all the text when
    the product is not named in it."""
    names = list(names)
    shared, own, current = [], [], set()
    for clause in re.split(r"[,.;:!?]+", text):
        named = set(entities.named_products(clause, names)) or current
        current = named
        (own if name in named else shared if not named else []).append(clause)
    return ", ".join([*shared, *own]) if own else text


def missing_wishes(text: str, current: Record, variants: Iterable[Record]) -> list[str]:
    """The option values stated ("clicky", "RGB", "full size") when no available variant has them all
    together: what to tell the shopper instead of substituting the closest one; else nothing."""
    candidates = list(_candidates(current, variants).values())
    required = _wishes(text, current["options"], candidates).required
    if any(all(_holds(v["options"], need) for need in required) for v in candidates):
        return []
    return [" or ".join(sorted({v for values in need.values() for v in values})) for need in required]


_LEAVE_IT = re.compile(
    _FALLBACK.pattern + r"[^.;!?]*?\b(?P<leave>(?:leave|keep)\b[^.;!?]{0,40}?\b(?:alone|as (?:it )?is|as they are|unchanged)\b"
    r"|leave (?:it|them|that|this)(?: be| then)?\s*(?:[.;!?,]|$)|(?:skip|forget(?: about)?|never ?mind|don'?t (?:change|exchange|swap|modify|bother with))\b[^.;!?,]{0,30})", re.I)


def leaves_alone(text: str, name: str, names: Iterable[str]) -> bool:
    """The shopper said to leave this item as it is when what they asked for does not exist ("if that
    exact keyboard doesn't exist, leave the keyboard alone"); a fallback naming another product is not
    about this one."""
    names = list(names)
    for match in _LEAVE_IT.finditer(text):
        named = entities.named_products(match.group("leave"), names)
        if not named or name in named:
            return True
    return False


def _candidates(current: Record, variants: Iterable[Record]) -> dict[str, Record]:
    return {v["item_id"]: {**v, "name": current["name"]} for v in variants
            if v.get("available") and v["item_id"] != current["item_id"]}


@dataclass(frozen=True)
class _Wishes:
    hard: list[entities.OptionMention]  # stated values, not negated and not soft
    required: list[dict[str, set[str]]]  # per stated value: the (key, values) readings one of which must hold
    soft: list[tuple[entities.OptionMention, float]]  # > 0 preferred ("i5 over i7"), < 0 the one passed over
    ruled_out: list[entities.OptionMention]  # "not the blue one", "instead of Apple HomeKit"


_PREFER_BEFORE = frozenset({"prefer", "preferr", "prefera", "ideally"})
_OVER = frozenset({"over", "than"})  # "i5 over i7", "silver rather than black"
_INDIFFERENT = frozenset({"matter", "care", "whatever", "either"})
_INDIFFERENT_VIA = frozenset({"or", "not", "no", "doesnt", "dont", "doe", "do", "i", "really", "it", "is"})  # "does not matter"
_IF_SOFT = frozenset({"possibl", "need", "needed", "necessa", "can", "you"})  # "polyester if possible"


def _wishes(text: str, mine: Mapping[str, Any], candidates: list[Record]) -> _Wishes:
    """Sort the option values the text states into hard requirements, soft preferences and exclusions."""
    words = entities.tokens(text)
    mentions = entities.find_options(text, candidates)
    soft: dict[int, float] = {}
    for i, m in enumerate(mentions):
        after = words[m.position + 1 : mentions[i + 1].position if i + 1 < len(mentions) else len(words)][:4]
        before = words[max(0, m.position - 2) : m.position]
        if _OVER & set(after) and not m.negated:
            soft[i] = 1
            if i + 1 < len(mentions) and not mentions[i + 1].negated:
                soft[i + 1] = -1
            j = i  # "silver or black over other colors": every alternative before "over"
            while j > 0 and words[mentions[j - 1].position + 1 : mentions[j].position][-1:] == ("or",):
                j -= 1
                soft[j] = 1
        elif not m.negated and (_PREFER_BEFORE & set(before) or ("if" in after and _IF_SOFT & set(after))
              or (before[-1:] == ("or",) and i and not mentions[i - 1].values.keys() & m.values.keys())):
            soft.setdefault(i, 1)  # "prefer silver", "polyester if possible", "clicky, or no backlight"
        elif not m.negated and before[-1:] in (("then",), ("or",)) and (earlier := [
                soft[j] for j in range(i) if soft.get(j, 0) > 0 and mentions[j].values.keys() & m.values.keys()]):
            soft[i] = min(earlier) / 2  # "I prefer battery, then USB, then AC": each next one counts less
    indifferent = {i for i, m in enumerate(mentions) if _indifferent(words, m)}
    hard = [m for i, m in enumerate(mentions) if i not in soft and i not in indifferent and not m.negated]
    readings = [{k: v for k, v in m.values.items() if k in mine} for m in hard]
    sole = {k for r in readings if len(r) == 1 for k in r}  # "medium, high ventilation": medium is the size
    readings = [{k: v for k, v in r.items() if k not in sole} or r if len(r) > 1 else r for r in readings]
    changed = {k for r in readings for k, v in r.items() if v != str(mine[k])}
    required: list[dict[str, set[str]]] = []
    for reading in readings:
        if not reading or any(str(mine[k]) == v and k in changed for k, v in reading.items()):
            continue  # "the blue one … a red one": blue only describes the current item
        need = {k: {v} for k, v in reading.items()}
        for other in [r for r in required if r.keys() & need.keys()]:  # "red or blue": either will do
            required.remove(other)
            for k, values in other.items():
                need.setdefault(k, set()).update(values)
        required.append(need)
    return _Wishes(hard, required, [(mentions[i], weight) for i, weight in soft.items()],
                   [m for m in mentions if m.negated])


def _indifferent(words: tuple[str, ...], mention: entities.OptionMention) -> bool:
    """"waterproof or not doesn't matter": the value is named only to say it does not count (but
    "black, I don't care about the size" still asks for black)."""
    own = {w for k, v in mention.values.items() for w in entities.tokens(f"{k} {v}")}
    for word in words[mention.position : mention.position + 7]:
        if word in _INDIFFERENT:
            return True
        if word not in own and word not in _INDIFFERENT_VIA:
            return False
    return False


def _holds(options: Mapping[str, Any], need: Mapping[str, set[str]]) -> bool:
    """The variant has one of the readings of a stated value ("black": as its color or its strap color)."""
    return any(str(options.get(k)) in values for k, values in need.items())


def _steps(wants: list[Relative], mine: Mapping[str, Any], options: Mapping[str, Any]) -> float | None:
    """How well a variant meets the comparisons (higher is better), None when it breaks one."""
    total = 0.0
    for want in wants:
        now, new = ordinal(mine.get(want.key)), ordinal(options.get(want.key))
        if now is None or new is None or (new - now) * want.direction <= 0:
            return None
        if want.by is not None and abs(abs(new - now) - want.by) > 1e-9:
            return None
        total += new * want.direction if want.extreme else -abs(new - now)
    return total


def _stem_in(words: str, key: str) -> bool:
    """"same material" names the option "material"; "same size" names "size" (not "screen size")."""
    said = {w[:5] for w in words.lower().split()}
    return key.lower().split()[-1][:5] in said or key.lower()[:5] in said


def payment_method_mentioned(
    text: str, methods: list[Record], original: str | None = None, elsewhere: Iterable[str] = ()
) -> Record | None:
    """The saved payment method the text names ("my visa ending 1234", "PayPal", "the original one",
    "the payment method of my other order": ``elsewhere`` holds what the shopper's other orders were paid with)."""
    by_id = {m["id"]: m for m in methods}
    if original in by_id and _SAME_METHOD.search(text):
        return by_id[original]
    if _OTHER_ORDER_METHOD.search(text):
        other = set(elsewhere) - {original}
        return by_id.get(other.pop()) if len(other) == 1 else None
    if _OTHER_CARD.search(text):  # "my other card": the one card that did not pay for the order
        cards = [m for m in methods if m["source"] == "credit_card" and m["id"] != original]
        if len(cards) == 1:
            return cards[0]
    for mention in entities.find_payment_methods(text):
        if mention.kind == "original" and original in by_id:
            return by_id[original]
        found = entities.resolve_payment_method(mention, methods)
        if found is not None:
            return by_id[found]
    return None


def payment_methods_missing(text: str, methods: list[Record]) -> list[entities.PaymentMention]:
    """Methods the text names that the shopper does not have at all ("my Amex" without one)."""
    return [m for m in entities.find_payment_methods(text)
            if m.kind != "original" and not entities.matching_payment_methods(m, methods)]


def before_fallback(text: str) -> str:
    """The words before any fallback ("my credit card; if that's not possible, the gift card"): the first choice."""
    mark = _FALLBACK.search(text)
    return text[: mark.start()] if mark else text


def after_fallback(text: str) -> str:
    """The words after the first fallback cue ("…; if that's not possible, the gift card"): the second choice,
    also when spoken with no comma to end the condition ("if that's not allowed fine the original one")."""
    mark = _FALLBACK.search(text)
    return text[mark.end("cue") if mark.group("cue") else mark.end() :] if mark else ""


def original_payment_method(order: Record) -> str | None:
    payments = [p for p in order.get("payment_history", []) if p.get("transaction_type") == "payment"]
    return payments[0]["payment_method_id"] if payments else None


def cancel_reason(text: str) -> str | None:
    """Map free text to the store's two cancellation reasons."""
    lowered = text.lower()
    if re.search(r"mistake|by accident|accidental|wrong (?:item|order|size|color)|didn'?t mean", lowered):
        return "ordered by mistake"
    if re.search(r"no longer|don'?t need|do not need|not needed|changed my mind|don'?t want|found .* cheaper", lowered):
        return "no longer needed"
    return None


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
    r"\b(?:default|home|profile|account'?s?|usual)\b(?: \w+)? address\b|\baddress on (?:my|the) (?:account|profile)")


_ORDER_TARGET = re.compile(r"\baddress(?:es)? (?:of|on|for) (?:\w+ ){0,3}orders?\b|\borders?'?s? (?:shipping |delivery )?address"
                           rf"|\b(?:every|all|each|both)(?: of)?(?: my| the)? (?:\w+ )?orders?\b|\borders?\b(?: \w+){{0,2}}? {_SENT}\b"
                           r"|\bfor (?:my|the|this|that) (?:\w+ ){0,2}orders?\b"
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


_CHANGE_WORDS = re.compile(r"\b(?:change|update|set|switch|move[ds]?|moving|replace|correct|fix|edit|modify|make|use|new|different)\b", re.I)


def asks_address_change(text: str) -> bool:
    """The words ask for an address to change ("update my address", "my new address is …", a full
    address), rather than only naming one ("my NYC address from my other order")."""
    return bool(_CHANGE_WORDS.search(text)) or parse_address(text) is not None


def order_address_request(text: str) -> str | None:
    """In a message asking to change the account's address, the sentence that also asks to change an
    order's ("One of my orders is going to my old address, please change it to … . And update my
    default address too."): that sentence, else None."""
    sentences = re.split(r"(?<=[.!?;])\s+", text.strip())
    for sentence in sentences:
        rest = " ".join(s for s in sentences if s is not sentence).lower()
        if means_order_address(sentence) and _CHANGE_WORDS.search(sentence) and _DEFAULT_ADDRESS.search(rest):
            return sentence
    return None


# An order told by what it holds: "my luggage set order", "the order with the tablet" (the products only,
# so "change the backpack in my order" names no order by its backpack).
_ORDER_BY_PRODUCT = re.compile(r"\b(?:my|the|that|our) ((?:(?!(?:in|on|of|from|to|for|with|my|the|a|an|and|this|that)\b)[\w-]+ ){1,3})orders?\b"
                               r"|\borders? (?:with|for|containing|that (?:has|had|holds)) ((?:[\w-]+ ?){1,4})"
                               rf"|\b(?:address|one|place|where) (?:my|the) ((?:[\w-]+ ){{1,3}}?)(?:{_WENT})\b")


def address_mentioned(text: str, known: list[tuple[str, Record]], exclude: Record | None = None) -> Record | None:
    """One of the shopper's own addresses the text refers to: "my default address", "the address of
    order #W…", "the one on my luggage set order", "my NYC address from my other order".

    ``known`` holds (how it is known, address) pairs: "default", or an order's id and item names. None
    when the clearest reference is ``exclude`` itself (where it goes now), or when nothing tells one apart.
    """
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
