"""Resolving what the shopper said against their own store records.

Pure functions over τ²-shaped records (orders, products, payment methods as dicts), so the dialogue
can ask "which of *these* items did they mean?" without the store or a model. Reading the words
(product names, options, payment methods, "all items") is :mod:`entities`' job; this module applies
what was read to the shopper's own orders. Each function returns what it could resolve and leaves
the asking to the dialogue. Choosing a variant lives in :mod:`variant_choice`, reading addresses in
:mod:`addresses`.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

from shopagent.agent import addresses, entities, variant_choice
from shopagent.agent.entities import Record

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
    r"\b(?:except(?: for)?|but not|other than|apart from|aside from|besides|excluding|minus|save for"
    r"|(?:but )?(?:i'?m |i am |i'?ll |(?<!\bi )(?<!\bwe ))keep(?:ing)?(?!\s+(?:on|in|at|by|near|under|beside)\b))\b"  # not "the lamp I keep on my desk"
    # "return everything possible, not the boots": a bare "not" right after what "everything" covers, or
    # starting its own clause ("cancel all you can. not the boots though"); "everything but the boots"
    r"|(?:(?<=everything )|(?<=everything, )|(?<=possible )|(?<=possible, )|(?<=orders )|(?<=orders, )|(?<=[.;,] )|^)"
    r"not\b(?= (?:the|my|those|these)\b)|(?<=everything )but\b(?= (?:the|my|those|these)\b)",
    re.I)
_LATEST = re.compile(r"\b(?:latest|most recent|more recent|last|newest|newer|recent one|later one)\b", re.I)
_EARLIEST = re.compile(r"\b(?:earliest|oldest|older|earlier one|earlier order|first one|first order)\b", re.I)
_OTHER_CARD = re.compile(r"\b(?:other|another|different|second)\s+(?:credit\s+|debit\s+)?card\b", re.I)
_SAME_METHOD = re.compile(r"\b(?:original(?:ly)?|same (?:card|method|payment)|paid with|used to pay"
                          r"|(?:way|how|however|whatever) (?:i|we) (?:originally )?paid"  # "the same way I paid for it"
                          r"|where (?:it|the money|the payment|that) (?:originally )?came from)\b", re.I)
_OTHER_ORDER_METHOD = re.compile(
    r"\b(?:payment|method|card|account|paid)\b[^.;]{0,30}?\b(?:other|another|different|second) order\b"
    r"|\b(?:other|another|different|second) order(?:'s|’s|s)? (?:payment|method|card|account)\b", re.I)


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
    if (said := _PRICED_OWN.search(text)) and (direction := variant_choice.price_preference(said.group())):
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


_BACK = r"(?:\w+\s+){0,3}back"  # "send it back", "send the spare kettle back"
_SEND_BACK = rf"send\s+{_BACK}"
# flow: (its verbs, the order statuses it can act on; None: any)
_FALLBACK_FLOWS: dict[str, tuple[str, tuple[str, ...] | None]] = {"cancel_order": (r"cancel|remove", ("pending",)), "return_item": (rf"return|{_SEND_BACK}", ("delivered",)),
                   "human_agent": (r"human|person|representative|manager|supervisor|(?:real|live) agent", None)}


def fallback_request(text: str, status: str) -> tuple[str, str] | None:
    """What to do instead when the asked change is impossible ("if that's not available, cancel the
    order", "if you can't, get me a human"): the first fallback this order's status allows, as (flow, its words)."""
    marks = list(entities.FALLBACK.finditer(text))
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


_ACTION = re.compile(rf"\b(?:return|{_SEND_BACK}|exchange|swap|trade|replace|change|modify|switch|upgrade|cancel|remove)\b", re.I)
_WANTS_GONE = re.compile(r"\b(?:refund\w*|get rid of|(?:no longer|don'?t|do not) (?:need|want))\b", re.I)


# What an owned item should become, with no verb ("that's what I want my earbuds to be instead of the blue ones"):
# an exchange, or a change of an order not received yet; "I want my order to be delivered sooner" is neither.
_BECOMES = re.compile(r"\b(?:want|need|like|prefer)\s+(?:my|our|the|it|them|this|that|these|those)\b(?:\s+[\w'-]+){0,4}?"
                      r"\s+to\s+be\b(?=[^.;!?]*\b(?:instead|rather than)\b)", re.I)


def asks_item_change(text: str) -> bool:
    """The words ask to do something to an item ("return it", "I no longer need the boots"), not just
    describe it ("I received two tablets but I only need one")."""
    return bool(_ACTION.search(_plain_verbs(text)) or _WANTS_GONE.search(text) or _BECOMES.search(text))


_INFLECTED = re.compile(r"(return|exchang|swap|trad|replac|chang|modif|switch|upgrad|cancel|remov|send|sen)"
                        r"(ing|ping|ling|ying|ed|ped|led|ied|d|t)", re.I)
_BASE_ENDS = {"exchang": "e", "trad": "e", "replac": "e", "chang": "e", "upgrad": "e", "remov": "e", "modif": "y",
              "sen": "d"}
# A wish followed by the action's participle ("I'd like my shirts switched to purple", "can I get it swapped",
# "have them cancelled") or a gerund ("I'm returning the speaker"); a past tense only describes ("I returned it").
_ASKED_FORM = re.compile(r"\b(?:(?:want|need|like|love)\s+(?=[\w'-]+\s)|(?:get|have)\s+(?=(?:it|them|this|that|these"
                         r"|those|both|all|my|the|our)\b)|(?:i'm|i am|we're|we are|i'll be|i will be|i'd be)\s+)", re.I)
_FORM_REACH = 10  # words after the wish where its verb may stand
# A participle asked for with no wish at all ("the pet bed swapped to the cheapest one", "the headphones exchanged
# for the black ones please"): the change it ends in follows it; a subject or an auxiliary before it in its
# sentence makes it a description ("I exchanged it for a blue one", "it was changed to express").
_BARE_PARTICIPLE = re.compile(rf"\b(?P<verb>[\w'-]+(?:ed|d|t))\s+(?:{_BACK}\s+)?(?:to|for|into|with)\b", re.I)
_TELLS = re.compile(r"\b(?:i|we|you|they|he|she|it|was|were|been|being|is|are|has|have|had|got|already|just)\b", re.I)
_BOUGHT = re.compile(r"(?<=\w )(?:that |which )?(?:i|we)(?: just| recently)? (?:got|bought|ordered|received|purchased)\b",
                     re.I)  # "the kettle I got swapped to …": which kettle, not who did it


def _plain_verbs(text: str) -> str:
    """The text with an asked action's inflected verb in its plain form, padded to keep every offset:
    "I'd like them switched" reads "I'd like them switch  ", "I'm returning it" "I'm return    it"."""
    chars = list(text)
    words = [[(wish.end() + word.start(), wish.end() + word.end())
              for word in itertools.islice(re.finditer(r"[\w'-]+", text[wish.end():]), _FORM_REACH)]
             for wish in _ASKED_FORM.finditer(text)]

    def sentence(at: int) -> str:  # the text from the sentence's start up to ``at``
        return text[max(text.rfind(mark, 0, at) for mark in ".;!?") + 1 : at]

    words += [[m.span("verb")] for m in _BARE_PARTICIPLE.finditer(text)
              if not _TELLS.search(_BOUGHT.sub(" ", sentence(m.start())))]
    for candidates in words:
        for start, end in candidates:
            if (plain := _asked_verb(text, start, end)) is not None:
                chars[start:end] = plain.ljust(end - start)
                break
    return "".join(chars)


def _asked_verb(text: str, start: int, end: int) -> str | None:
    """The plain form of the action verb inflected at text[start:end] ("sent" only in "sent … back")."""
    if (verb := _INFLECTED.fullmatch(text[start:end])) is None or verb.group(1).lower().startswith("sen") and \
            not re.match(rf"\s+{_BACK}\b", text[end:]):
        return None
    return verb.group(1) + _BASE_ENDS.get(verb.group(1).lower(), "")


_ACTIONS = {
    "return": rf"return|{_SEND_BACK}",
    "exchange": r"exchange|swap|trade|replace|change|switch|upgrade",
    "change": r"change|modify|switch|swap|upgrade|replace|exchange",
    "cancel": r"cancel|remove",
}


def action_asked(text: str) -> str | None:
    """The first item action the words ask for: "return", "exchange" or "cancel"; None without a verb
    or a wish for what an item should become."""
    verb = _ACTION.search(_plain_verbs(text))
    if verb is None:
        return "exchange" if _BECOMES.search(text) else None
    return next((a for a in ("return", "cancel", "exchange") if re.fullmatch(_ACTIONS[a], verb.group(), re.I)), None)


def clauses_for(action: str, text: str) -> str:
    """The words of a message about one action: "return the bottle and exchange the bed" → for
    "return", "return the bottle". Words before any action verb belong to every action; with the verbs in
    different sentences, a sentence's words before its verb belong to it ("Charger: cancel it. Sneakers: send
    them back.")."""
    marks = list(_ACTION.finditer(_plain_verbs(text)))
    own = re.compile(rf"(?:{_ACTIONS[action]})", re.I)
    starts = [m.start() for m in marks]
    sentences = [max((b.end() for b in re.finditer(r"[.;!?]\s+", text[:at])), default=0) for at in starts]
    if len(set(sentences)) > 1:
        starts = [max(sentence, marks[n - 1].end()) if n else sentence for n, sentence in enumerate(sentences)]
    parts = [text[start : after] for start, after, m in zip(starts, [*starts[1:], len(text)], marks) if own.fullmatch(m.group())]
    if not marks or not parts:
        return text
    return " ".join([text[: starts[0]], *parts])


# Words telling an order by another item in it ("the backpack I received with the vacuum", "the lamp from
# the order with the kettle"): that item is no item to act on.
_ALONG_WITH = re.compile(
    r"\b(?:(?:order|one|package|parcel|box|shipment|delivery)\s+(?:that\s+(?:has|had|holds|came with)|with|containing)"
    r"|(?:received|got|came|bought|ordered|purchased|delivered|arrived|shipped)\s+(?:together\s+|along\s+)?with)\b"
    r"(?:(?!\b(?:and|but|plus|also)\b)[^.;!?,])*", re.I)


def _acted_on(text: str, items: list[Record]) -> str:
    """The words naming the items to act on: without those naming another item only to tell the order,
    unless nothing else is named."""
    rest = _ALONG_WITH.sub(" ", variant_choice.SAME_AS.sub(" ", text))
    return rest if rest != text and (_named(rest, items) or entities.find_catalog_ids(rest)) else text


def chosen_items(text: str, items: list[Record], known: Iterable[Record] = (), status: str | None = None,
                 others: Iterable[str] = ()) -> list[Record]:
    """The items the text selects: named ones, all of them, or all except the named ones (``known``:
    see :func:`items_mentioned`); with the order's ``status``, not those the text places elsewhere
    ("the grill I just ordered" is no grill of a delivered order; ``others``: the names of the
    shopper's other products, to tell the words about each apart)."""
    names = [*(item["name"] for item in items), *others]
    copies = {item["name"]: copy_placed(text, item["name"], names) for item in items}
    text = _acted_on(text, items)
    here = [item for item in items if (copies[item["name"]] or placed(text, item["name"])) in (None, status)]
    if status is not None and items_mentioned(text, here):  # unless that leaves nothing named
        items = here
    exception = _EXCEPT.search(text)
    if exception and (entities.mentions_all_items(text[: exception.start()])
                      or re.search(r"\b(?:all|every\w*|each)\b", text[: exception.start()], re.I)):
        excluded = {item["item_id"] for item in items_mentioned(text[exception.end():], items, known)}
        return [item for item in items if item["item_id"] not in excluded]
    if entities.mentions_all_items(text):
        return list(items)
    named = items_mentioned(text, items, known)
    if exception:  # "return the watch, not the boots", "keep the mug but return the kettle": the list less those
        left_out = _EXCEPTION_END.split(text[exception.end():], maxsplit=1)[0]
        before = {item["item_id"] for item in items_mentioned(text[: exception.start()], items, known)}
        excluded = {item["item_id"] for item in items_mentioned(left_out, items, known)} - before
        named = [item for item in named if item["item_id"] not in excluded]
    return named


# Where the items an "except"/"not"/"keep" leaves out end: the sentence, or a clause with its own action.
_EXCEPTION_END = re.compile(r"[.;!?]|\b(?:but|and|then)\s+(?:please\s+)?(?:just\s+)?(?:return|send|exchange|swap"
                            r"|trade|replace|change|cancel|remove|refund)\b", re.I)


def copy_placed(text: str, name: str, names: list[str]) -> str | None:
    """The order status of the item a copy is asked for: "make my new grill the same as the one I received"
    changes a grill not received (pending), "… like the one in my pending order" a delivered one."""
    own = variant_choice.words_about(text, name, names)
    copy = variant_choice.SAME_AS.search(own)
    if copy is None or not entities.named_products(own[: copy.start()], [name]):
        return None
    if variant_choice.ON_ORDER.search(copy.group("ref")):
        return "delivered"
    return "pending" if variant_choice.RECEIVED_REF.search(copy.group("ref")) else None


def placed(text: str, name: str) -> str | None:
    """The order status the words right after the product's name give it: "the grill I just ordered",
    "the hose in my pending order" (pending), "the lamp I received" (delivered); None when unsaid."""
    words = {w for w in re.findall(r"[a-z]+", name.lower()) if len(w) > 3}
    found = set()
    for at in (m for m in re.finditer(r"[a-z]+", text.lower()) if m.group().rstrip("s") in words or m.group() in words):
        after = re.match(r"(?:\s+(?!(?:and|but|or|to|for|then)\b)[\w']+){1,6}", text[at.end():], re.I)
        window = after.group() if after else ""
        if variant_choice.ON_ORDER.search(window):
            found.add("pending")
        elif variant_choice.RECEIVED.search(window):
            found.add("delivered")
    return found.pop() if len(found) == 1 else None


_ALL_ORDERS = re.compile(
    r"\b(?:all|both|every|each)\b(?:\s+(?:of|my|the|those|these))*(?:\s+\w+)?\s+orders?\b"
    r"|\bevery(?:thing| item)? (?:that )?i(?: have)? (?:ordered|bought|purchased)\b"
    r"|\b(?:my|the) (?:other|remaining) orders\b|^\W*(?:all|both) of them\b"  # "all of them": answering "which order?"
    r"|\b(?:on|for|across) (?:my|our) (?:\w+ )?orders\b", re.I)  # "fix the address on my orders": each of them
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
    unconditional = entities.FALLBACK.sub(lambda cue: " " * len(cue.group()), text)  # "if that's not possible" excludes nothing
    if (negation := _NOT_THIS.search(unconditional)) is not None and not _ALL_BUT.search(text[: negation.start()]):
        excluded = [o for o in pool if _named_in(text[negation.end():], [o], pool)]
        if excluded and len(excluded) < len(pool):
            pool, text = [o for o in pool if o not in excluded], text[: negation.start()]
    if (source := _ADDRESS_SOURCE.search(text)) is not None:  # "change it to the address on my tablet order"
        part = "source" if source.group("source") else "went"
        sources = [o for o in pool if _named_in(source.group(part), [o], pool)]
        if sources and len(sources) < len(pool):
            pool, text = [o for o in pool if o not in sources], text[: source.start(part)] + text[source.end():]
    shipped = [o for o in pool if any(addresses.ships_to(_origin(text), a) for a in [o.get("address") or {}, *o.get("former_addresses", ())])]
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
    if len(holding) == 1 and (price := variant_choice.price_preference(text)):  # "return the more expensive one" of two tablets
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


_ALL_BUT = re.compile(r"\b(?:all|every|everything|whole)\b", re.I)  # "all items except the lamp": items, not orders


# An order whose address is to be copied, named after the new address is introduced: "change it to my new
# home, the address on my tablet order" (while "change the address of my tablet order to …" is the target).
_ADDRESS_SOURCE = re.compile(r"(?:\b(?:to|use|using|as|like|from|find|found|see)\b[^.;]*?\b(?:address|one)|\b(?:copy|take|grab) (?:it|that|the address))"
                             r" (?:on|of|from|in|for) (?P<source>[^.,;]*?\border)\b"  # "copy it from the luggage order"
                             r"|\b(?:to|use|using|as|like|from)\b[^.;]*?\b(?:address|one|place|where) (?P<went>(?:my|the) (?:[\w-]+ ){1,3}?)"
                             rf"(?:{addresses.WENT})\b", re.I)


def _origin(text: str) -> str:
    """The words that can say where an order ships now: "the one sent to my son in Denver" keeps "Denver",
    "change it to my address in Austin" drops "Austin" (that is the new address, not this order's), but
    keeps "… rather than my son's flat in Denver" (where it goes now)."""
    return re.sub(rf"(\b{addresses.SENT}\s+)?\b(?:to|at) (?:my|the|our)\b[^.,;]*",
                  lambda m: m.group() if m.group(1) else " ".join(["", *addresses.PASSED_OVER.findall(m.group())]),
                  text, flags=re.I)


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
    mark = entities.FALLBACK.search(text)
    return text[: mark.start()] if mark else text


def after_fallback(text: str) -> str:
    """The words after the first fallback cue ("…; if that's not possible, the gift card"): the second choice,
    also when spoken with no comma to end the condition ("if that's not allowed fine the original one")."""
    mark = entities.FALLBACK.search(text)
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
