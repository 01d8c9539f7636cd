"""Entities in shopper messages, typed or transcribed from speech.

Every parser is a pure function of the text. Speech transcripts spell numbers out ("w two six one
one three four zero", "zip one nine one two two", "fifty dollars"), so numeric parsers first run
:func:`spoken_to_digits`, which wraps Whisper's own English number normaliser (the one its
transcripts are scored with) minus the guesses that hurt here: "oh" is zero only next to other
digits, and "1" stays a digit.

Catalog-dependent parsing (options, variants, product names) takes the candidate variants as plain
dicts ``{"item_id", "name", "options"}`` (the shape of an order line), so it works on any store.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from whisper.normalizers.english import EnglishNumberNormalizer

if TYPE_CHECKING:
    from shopagent.retrieval.search import SearchFilters

Variant = Mapping[str, Any]  # {"item_id": str, "name": product name, "options": {key: value}}
Record = Mapping[str, Any]  # a τ²-shaped store record: an order, an order line, a payment method, an address


# --- spoken numbers ---------------------------------------------------------------------------


class _SpokenNumbers(EnglishNumberNormalizer):
    """Whisper's number normaliser, with "oh"/"o" left alone (callers decide when they are zero)."""

    def __init__(self) -> None:
        super().__init__()
        self.zeros = {"zero"}
        self.decimals = {*self.ones, *self.tens, *self.zeros}
        self.words -= {"o", "oh"}


_NUMBERS = _SpokenNumbers()
_DIGIT_WORDS = frozenset({"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"})
_NUMBER_HYPHEN = re.compile(  # "twenty-two", "two-piece": Whisper's normaliser needs the number word alone
    r"\b(one|two|three|four|five|six|seven|eight|nine|ten|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)-"
)


def spoken_to_digits(text: str) -> str:
    """Lower-case ``text`` with number words as digits: "order w two six one" -> "order w 261"."""
    s = _NUMBER_HYPHEN.sub(r"\1 ", text.lower())
    s = re.sub(r"\ba (hundred|thousand)\b", r"one \1", s)
    s = re.sub(r"\bbetween\b([^.?!,]*?)\s+and\s+", r"between\1 to ", s)  # not "five hundred and one thousand" = 501000
    s = re.sub(r"([,;:!?.])(?=\s|$)", r" \1", s)  # "nine," must reach the normaliser as "nine"
    words = s.split()
    digitish = [w in _DIGIT_WORDS or w.isdigit() for w in words]
    words = [
        "zero" if w in ("o", "oh") and ((i > 0 and digitish[i - 1]) or (i + 1 < len(words) and digitish[i + 1])) else w
        for i, w in enumerate(words)
    ]
    out = " ".join(w for w in _NUMBERS.process_words(words) if w is not None) if words else ""
    out = re.sub(r"(?<![\w.])1s\b", "ones", out)  # "the black ones" is no number ("1s")
    return re.sub(r" ([,;:!?.])(?=\s|$)", r"\1", out)


# --- order ids, emails, names, zip codes -----------------------------------------------------

# Seven digits, written together or spaced ("261 1340"); together wins when a number follows.
_DIGITS7 = r"(\d{7}(?!\d)|\d(?:[\s-]?\d){6}(?![\s-]?\d))"
_ORDER_ID = re.compile(r"(?:#\s*)?\bw\s*[-#:]?\s*" + _DIGITS7)
_ORDER_ID_BARE = re.compile(r"\border\s*(?:number|no|id|#)?\s*(?:is\s*)?#?\s*" + _DIGITS7)


def find_order_ids(text: str) -> list[str]:
    """Order ids as ``#W1234567``, in order of mention: "#W2611340", "w 261 1340", "w two six ..."."""
    s = spoken_to_digits(text)
    found = sorted((m.start(), m.group(1)) for p in (_ORDER_ID, _ORDER_ID_BARE) for m in p.finditer(s))
    return list(dict.fromkeys("#W" + re.sub(r"\D", "", digits) for _, digits in found))


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_SPOKEN_EMAIL = re.compile(
    r"\b([a-z0-9]+(?:(?:\s*[._-]\s*|\s+(?:dot|underscore|dash|hyphen)\s+)[a-z0-9]+|\s+\d+\b)*)"
    r"\s*(?:@|\bat\b)\s*"
    r"([a-z0-9-]+(?:(?:\s*\.\s*|\s+dot\s+)[a-z]{2,})+)\b"
)
_SPOKEN_SYMBOLS = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-", "at": "@"}


def find_emails(text: str) -> list[str]:
    """Email addresses, written or spoken ("john dot smith at example dot com"), lower-cased."""
    written = [m.group(0).rstrip(".").lower() for m in _EMAIL.finditer(text)]
    spoken = []
    for m in _SPOKEN_EMAIL.finditer(spoken_to_digits(text)):
        words = re.split(r"(\s+|[@._-])", m.group(0))
        spoken.append("".join(_SPOKEN_SYMBOLS.get(w, w) for w in words if not w.isspace()))
    return list(dict.fromkeys(written + spoken))


_ZIP_CUE = re.compile(r"\b(?:zip\s*code|zipcode|zip|postal\s*code|postcode)\b\D{0,12}?(\d(?:\s?\d){4})(?!\s?\d)")
_FIVE_DIGITS = re.compile(r"(?<![\d$#.,])\b(\d{5})\b(?![.,]?\d)")


def find_zip(text: str) -> str | None:
    """A 5-digit US zip code: after "zip"/"zip code" if said, else a lone 5-digit number."""
    s = spoken_to_digits(text)
    if m := _ZIP_CUE.search(s):
        return re.sub(r"\s", "", m.group(1))
    s = _ORDER_ID.sub(" ", _ORDER_ID_BARE.sub(" ", s))
    m = _FIVE_DIGITS.search(s)
    return m.group(1) if m and not (_MEASURE.match(s, m.end()) or _MONEY_WORD.match(s, m.end())) else None


@dataclass(frozen=True)
class PersonName:
    first: str
    last: str | None = None


_NAME_CUE = re.compile(
    r"\b(my name is|my name's|name is|name's|name:?|call me|this is|i am|i'm|im|it's|its)\s+", re.IGNORECASE
)  # a bare "name" ("zip 10001, name Ana Ruiz") is a weak cue: it needs a first and a last name
_STRONG_CUES = frozenset({"my name is", "my name's", "name is", "name's", "call me"})
_NOT_NAMES = ENGLISH_STOP_WORDS | {
    "hi", "hello", "hey", "yes", "yeah", "yep", "sure", "ok", "okay", "um", "uh", "thanks", "thank", "just",
    "sorry", "here", "calling", "looking", "trying", "wondering", "writing", "fine", "good", "great", "new",
    "order", "orders", "zip", "code", "email", "number", "cancel", "return", "exchange", "refund", "help",
    "customer", "user", "account", "address", "really", "still", "actually", "also", "want", "need", "like",
    "right", "alright", "yup", "hmm", "oh", "live", "living",
}


def find_name(text: str, asked: bool = False) -> PersonName | None:
    """A person's name from "my name is ...", "I'm ...", or a bare "Ana Ruiz, 10001".

    A bare name (no cue) is accepted only beside a zip code or when ``asked`` (the agent just asked
    for the name): otherwise two ordinary words ("cancel order") would pass for one.
    """
    lowercase = _typed_lowercase(text)
    for m in _NAME_CUE.finditer(text):
        strong = m.group(1).lower() in _STRONG_CUES
        tokens = _name_tokens(text[m.end() :], capitalised=not lowercase, shaped=lowercase and not strong)
        if tokens and (strong or len(tokens) >= 2):
            return _person(tokens)
    zip_code = find_zip(text)
    if asked or zip_code:
        rest = _EMAIL.sub(" ", spoken_to_digits(text) if lowercase else text)
        # "Ana Ruiz, zip 10001. I lost my email": the name is the run of name-like words nearest before
        # the zip ("ana ruiz, denver 10001": a lone word or a place after "in"/"from" is not it); else
        # the only two or three words that can be a name.
        before = _before_zip(rest) if zip_code else []
        words = before or [w for w in re.findall(r"[A-Za-z][A-Za-z'-]*", re.sub(r"\d", " ", rest))
                           if w.lower() not in _NOT_NAMES and not _CONTRACTED.search(w)]
        if 2 <= len(words) <= 3 and (lowercase or all(w[0].isupper() for w in words)):
            return _person(words)
    return None


def _typed_lowercase(text: str) -> bool:
    """Typed without capitals, bar the pronoun "I" that keyboards capitalise ("mei kovacs, I forgot")."""
    return re.sub(r"\bI(?=\b|')", "i", text) == text.lower()


_PLACE_BEFORE = frozenset({"in", "from", "at", "near", "to"})


def name_candidates(text: str) -> list[PersonName]:
    """Every name a bare "<name>, <city> <zip>" may hold, :func:`find_name`'s first: words alone cannot
    tell "sofia li, san antonio 78260" from "san antonio, sofia li 78260", so the account lookup tries each."""
    found = find_name(text)
    lowercase = _typed_lowercase(text)
    if find_zip(text) is None:
        return [found] if found else []
    rest = _EMAIL.sub(" ", spoken_to_digits(text) if lowercase else text)
    runs = [run[-3:] for run in _runs_before_zip(rest)]
    others = [_person(run) for run in runs if lowercase or all(w[0].isupper() for w in run)]
    return list(dict.fromkeys([*([found] if found else []), *others]))


def _before_zip(text: str) -> list[str]:
    """The two or three name-like words nearest before the zip code (or "zip"), skipping a place."""
    runs = _runs_before_zip(text)
    return runs[0][-3:] if runs else []


def _runs_before_zip(text: str) -> list[list[str]]:
    """Each run of two or more name-like words before the zip code (or "zip") that is no place, nearest first."""
    cue = re.search(r"\b(?:zip|postal|postcode)\b|\d(?:\s?\d){4}", text, re.IGNORECASE)
    if cue is None:
        return []
    runs: list[tuple[list[str], bool]] = []  # runs of name-like words, and whether each is a place
    previous: str | None = ""  # the word before the next run; None inside a run
    for word in re.findall(r"[A-Za-z][A-Za-z'-]*|[^\sA-Za-z]", text[: cue.start()]):
        if re.fullmatch(r"[A-Za-z][A-Za-z'-]*", word) and word.lower() not in _NOT_NAMES and not _CONTRACTED.search(word):
            if previous is not None:
                runs.append(([], previous.lower() in _PLACE_BEFORE))
            runs[-1][0].append(word)
            previous = None
        else:
            previous = word
    return [run for run, place in reversed(runs) if len(run) >= 2 and not place]


_CONTRACTED = re.compile(r"(?:n't|'(?:m|re|ve|ll|d))$", re.IGNORECASE)


def _name_tokens(rest: str, capitalised: bool, shaped: bool) -> list[str]:
    """Up to three name-like words at the start of ``rest``, stopping at punctuation or a stop word."""
    tokens: list[str] = []
    for raw in rest.split()[:3]:
        word = raw.strip(",.;:!?")
        if not re.fullmatch(r"[A-Za-z][A-Za-z'-]*", word) or word.lower() in _NOT_NAMES:
            break
        if capitalised and not word[0].isupper():
            break
        if shaped and re.search(r"(?:ing|ly|ed)$", word.lower()) and len(word) > 4:
            break
        tokens.append(word)
        if word != raw:  # punctuation closes the name
            break
    return tokens


def _person(words: Sequence[str]) -> PersonName:
    words = [w[0].upper() + w[1:] for w in words]
    return PersonName(words[0], " ".join(words[1:]) or None)


# --- payment methods -------------------------------------------------------------------------

PaymentKind = Literal["credit_card", "paypal", "gift_card", "original"]


@dataclass(frozen=True)
class PaymentMention:
    kind: PaymentKind  # "original": the method the order was paid with
    brand: str | None = None  # visa, mastercard, amex, discover
    last_four: str | None = None


_PAYMENT = re.compile(
    r"(?P<original>\b(?:original|same)\s+(?:payment(?:\s+method)?|card|method|account)"
    r"|\b(?:card|method|account) i (?:paid|used|bought it)(?: with)?)"
    r"|(?P<gift_card>\bgift\s?cards?\b|\bstore credit\b)"
    r"|(?P<paypal>\bpay\s?pal\b)"
    r"|(?P<brand>\bvisa\b|\bmaster\s?card\b|\bamex\b|\bamerican express\b|\bdiscover\b)"
    r"|(?P<credit_card>\b(?:credit|debit)\s?cards?\b|\bcards?\b)"
)
# Words that may stand before a bare "card" that pays ("my card", "a new card"); any other word makes it a
# product's card ("SD card", "memory card", "graphics card").
_CARD_BEFORE = ENGLISH_STOP_WORDS | {"new", "old", "saved", "usual", "bank", "main", "primary", "second", "plastic"}
_LAST_FOUR = re.compile(r"(?:ending|ends|last (?:four|4)(?: digits)?)\D{0,12}?(\d{4})\b")
_BRANDS = {"mastercard": "mastercard", "master card": "mastercard", "american express": "amex"}


def find_payment_methods(text: str) -> list[PaymentMention]:
    """Payment methods in order of mention: "my visa ending 1234", "paypal", "the gift card"."""
    s = spoken_to_digits(text)
    mentions: list[PaymentMention] = []
    claimed: set[str] = set()
    brand_end = -2  # no brand yet (-1 would join a "card" at the very start to it)
    for m in _PAYMENT.finditer(s):
        kind = m.lastgroup
        if kind == "credit_card" and 0 <= m.start() - brand_end <= 1:
            continue  # "my visa card" is one mention
        if kind == "credit_card" and (before := re.search(r"([a-z0-9]+)[\s-]*$", s[: m.start()].lower())) and (
                m.group().lower().startswith("card") and before.group(1) not in _CARD_BEFORE):
            continue  # "the SD card", "a 64GB card": part of a product
        last = _LAST_FOUR.search(s, m.end(), m.end() + 30) if kind in ("brand", "credit_card") else None
        last_four = last.group(1) if last else None
        if kind == "brand":
            brand_end = m.end()
            mentions.append(PaymentMention("credit_card", _BRANDS.get(m.group(0), m.group(0)), last_four))
        else:
            mentions.append(PaymentMention(kind, None, last_four))  # type: ignore[arg-type]
        if last_four:
            claimed.add(last_four)
    for m in _LAST_FOUR.finditer(s):  # "the one ending in 1234" names a card without saying "card"
        if m.group(1) not in claimed:
            mentions.append(PaymentMention("credit_card", None, m.group(1)))
    return mentions


def resolve_payment_method(mention: PaymentMention, methods: Iterable[Mapping[str, Any]]) -> str | None:
    """The id of the one saved method (``{"id", "source", "brand", "last_four"}``) matching ``mention``.

    ``None`` when no method or several match, or for "original" (the order knows which that is).
    """
    found = matching_payment_methods(mention, methods)
    return found[0] if len(found) == 1 else None


def matching_payment_methods(mention: PaymentMention, methods: Iterable[Mapping[str, Any]]) -> list[str]:
    """Ids of every saved method ``mention`` fits (none for "original"): none at all means the shopper
    named a method they do not have ("my Amex" on an account without one)."""
    if mention.kind == "original":
        return []
    return [
        m["id"]
        for m in methods
        if m.get("source") == mention.kind
        and (mention.brand is None or m.get("brand") == mention.brand)
        and (mention.last_four is None or m.get("last_four") == mention.last_four)
    ]


# --- prices, quantities, "all items" ---------------------------------------------------------

# A number before a unit of measure is not a price, a quantity or a zip code ("20000 mah", "2 weeks");
# one before a count is not a price ("under 3 items").
_MEASURE = re.compile(
    r"\s?(?:inch(?:es)?|ft|feet|foot|gb|tb|mb|mp|mah|ml|l|liters?|litres?|lbs?|pounds?|kg|mm|cm|w|watts?|hours?"
    r"|hrs?|days?|weeks?|months?|years?|minutes?|mins?|x|%|percent|bar)(?!\w)"
)
_COUNT = re.compile(r"\s?(?:pieces?|pcs|items?|orders?|times?)\b")
_MONEY_WORD = re.compile(r"\s?(?:dollars?|bucks|usd)\b")
_AMOUNT = re.compile(r"(\$\s?)?(\d+(?:,\d{3})*(?:\.\d+)?)(k\b)?(\s?(?:dollars?|bucks|usd)\b)?")
_NOT_MONEY_BEFORE = re.compile(r"(?:size|#|\bw|number|ending(?: in)?|zip(?: code)?|order)\s*$")
_MAX_BEFORE = re.compile(
    r"(?:under|below|less than|cheaper than|lower than|no more than|not more than|at most|max(?:imum)?|up to"
    r"|within|budget(?: is| of)?|<=?)\s*(?:a\s+)?$"
)
_MAX_AFTER = re.compile(r"\s*(?:or less|or under|or cheaper|or below|max(?:imum)?|tops|at most)\b")
_MIN_BEFORE = re.compile(r"(?:over|above|more than|at least|greater than|higher than|min(?:imum)?|starting at|>=?)\s*$")
_MIN_AFTER = re.compile(r"\s*(?:or more|and up|and above|or higher|plus\b|\+)")
_RANGE_BEFORE = re.compile(r"(?:between|from)\s*$")
_RANGE_JOIN = re.compile(r"\s*(?:and|to|-)\s*$")


@dataclass(frozen=True)
class _Amount:
    start: int
    end: int
    value: float
    explicit: bool  # carried "$" or "dollars"


def _amounts(s: str) -> list[_Amount]:
    found = []
    for m in _AMOUNT.finditer(s):
        explicit = bool(m.group(1) or m.group(4))
        if _NOT_MONEY_BEFORE.search(s, 0, m.start()) and not explicit:
            continue
        unit = _MEASURE.match(s, m.end()) or _COUNT.match(s, m.end()) or re.match(r"[a-z]", s[m.end() : m.end() + 1])
        if not m.group(4) and not m.group(3) and unit:
            continue
        value = float(m.group(2).replace(",", "")) * (1000 if m.group(3) else 1)
        found.append(_Amount(m.start(), m.end(), value, explicit))
    return found


def find_price_bounds(text: str) -> tuple[float | None, float | None]:
    """``(minimum, maximum)`` price: "under $100", "between 50 and 80 dollars", "less than a hundred bucks"."""
    s = spoken_to_digits(text)
    low = high = None
    amounts = _amounts(s)
    for first, second in zip(amounts, amounts[1:]):
        joined = _RANGE_JOIN.search(s, first.end, second.start) and second.start - first.end <= 5
        if joined and (_RANGE_BEFORE.search(s, 0, first.start) or first.explicit or second.explicit):
            return min(first.value, second.value), max(first.value, second.value)
    for amount in amounts:
        before = s[max(0, amount.start - 30) : amount.start]
        if _MAX_BEFORE.search(before) or _MAX_AFTER.match(s, amount.end):
            high = amount.value if high is None else high
        elif _MIN_BEFORE.search(before) or _MIN_AFTER.match(s, amount.end):
            low = amount.value if low is None else low
    return low, high


_QUANTITY = re.compile(r"(?<![$#.\d])\b(\d{1,2})\s+(?=of (?:them|those|these|the|it|my)\b|[a-z][\w-]{2,})")
_NOT_QUANTITY_BEFORE = re.compile(
    r"(?:\b(?:size|number|order|ending(?: in)?|zip|code|under|over|than|to|and|w)|[#$])\s*$"
)
_PAIR_WORDS = re.compile(r"\b(?:both|a couple of|a pair of)\b")


def find_quantity(text: str) -> int | None:
    """How many items the shopper means: "two of them", "3 t-shirts", "both"."""
    s = spoken_to_digits(text)
    for m in _QUANTITY.finditer(s):
        if not _NOT_QUANTITY_BEFORE.search(s, 0, m.start()) and not _MEASURE.match(s, m.end(1)):
            return int(m.group(1))
    return 2 if _PAIR_WORDS.search(s) else None


_ALL_ITEMS = re.compile(
    r"\b(?:all (?:of )?(?:the |my |those |these )?(?:items|things|stuff|products|of them|of it)|everything"
    r"|(?:the )?(?:whole|entire) (?:order|thing)|every item|all of it)\b"
)


_KEPT = re.compile(r"\b(?:keep(?:ing)?|leav(?:e|ing)|hold(?:ing)? on to|not|nothing but)\s+(?:\w+\s+){0,2}?"
                   r"(?:everything|all|the rest)(?:\s+(?:else|of (?:it|them)))?\b")


def mentions_all_items(text: str) -> bool:
    """True for "all items", "everything", "the whole order"; not "only the watch, keep everything else"."""
    return bool(_ALL_ITEMS.search(_KEPT.sub(" ", text.lower())))


# --- product options and variants -----------------------------------------------------------

_SIZE_WORDS = (("extra small", "xs"), ("extra large", "xl"), ("small", "s"), ("medium", "m"), ("large", "l"))
_UNIT_WORDS = {
    "inches": "inch", "feet": "ft", "foot": "ft", "liters": "l", "liter": "l", "litres": "l",
    "litre": "l", "pounds": "lbs", "pound": "lbs", "lb": "lbs", "hour": "hours", "hrs": "hours", "cups": "cup",
}
_NEGATORS = frozenset({"not", "without", "except", "instead", "rather", "dont", "isnt", "non"})


# Sized to the words a turn compares again and again (product names, option values): over the τ²
# dialogues (570 turns, 129k calls, 1577 distinct texts) 1024 entries hit 98.8 %, as many as 8192. Every
# shopper message is a new key, and 8192 of them held ~11 MiB, which a service under load kept filling
# for its first minutes; 1024 hold ~1.8 MiB.
@lru_cache(maxsize=1024)
def tokens(text: str) -> tuple[str, ...]:
    """Comparable words: digits for numbers, units and sizes in one spelling, light stemming."""
    s = spoken_to_digits(text).replace("'", "").replace("’", "")
    s = re.sub(r"(\d)([a-z])|([a-z])(\d)", r"\1\3 \2\4", s)  # "128gb" -> "128 gb"
    s = re.sub(r"[^\w%.]+|(?<!\d)\.|\.(?!\d)", " ", s)
    for words, size in _SIZE_WORDS:
        s = re.sub(rf"\b{words}\b", size, s)
    out: list[str] = []
    for i, word in enumerate(s.split()):
        word = _UNIT_WORDS.get(word, word) if i and out and _is_number(out[-1]) else word
        out.append(_stem(word))
    return tuple(out)


def _stem(word: str) -> str:
    if not word.isalpha() or len(word) <= 3:
        return word
    if word.endswith("ies"):
        word = word[:-3] + "y"
    elif word.endswith(("ches", "shes", "xes", "sses")):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith("ss"):
        word = word[:-1]
    elif word.endswith("ic") and len(word) > 6:
        word = word[:-2]  # "robot"/"robotic", "magnet"/"magnetic"
    return word[:7]  # "resistant"/"resistance", "compatible"/"compatibility"


def _is_number(token: str) -> bool:
    return bool(re.fullmatch(r"\d+(?:\.\d+)?%?", token))


def find_phrase(words: Sequence[str], phrase: Sequence[str]) -> int:
    """Where the token sequence ``phrase`` first starts in ``words`` (both from :func:`tokens`), or -1."""
    n, phrase = len(phrase), tuple(phrase)
    return next((i for i in range(len(words) - n + 1) if tuple(words[i : i + n]) == phrase), -1)


_CATALOG_ID = re.compile(r"(?<![\d#])\d(?:[\s-]?\d){9}(?![\s-]?\d)")


def find_catalog_ids(text: str) -> list[str]:
    """Ten-digit item or product ids, written or spoken ("item 4107812777", "one six five six …"), in
    order of mention; which kind each is, only the catalog can tell."""
    return list(dict.fromkeys(re.sub(r"\D", "", m.group()) for m in _CATALOG_ID.finditer(spoken_to_digits(text))))


@dataclass(frozen=True)
class OptionMention:
    """Words of the text that name an option value; ``values`` holds every reading of them
    ("medium": size M or ventilation medium; "black": color, frame color, dial color)."""

    values: dict[str, str]  # option key -> value
    negated: bool  # "not the blue one", "instead of Apple HomeKit"
    position: int


def find_options(text: str, variants: Sequence[Variant]) -> list[OptionMention]:
    """Option values of ``variants`` named in ``text``, matched per option key.

    Values need all their distinctive words ("256GB SSD" is named by "256 gb"; "SSD" is shared by
    every storage value), numbers need their unit or key beside them ("size 8", "2 piece", not "2
    of them"), "none"/"no"/"yes" values follow the key ("no backlight", "waterproof"), and a value
    inside a longer one ("gold" in "rose gold") is not named on its own.
    """
    words = tokens(text)
    values: dict[str, set[str]] = {}
    for variant in variants:
        for key, value in variant["options"].items():
            values.setdefault(key, set()).add(str(value))
    hits = [hit for key, options in values.items() for hit in _named_values(words, key, options)
            if words[hit.end : hit.end + 1] not in _TALK_NOUNS]
    hits = [h for h in hits if not any(_inside(h, o) for o in hits)]
    spans: dict[int, dict[str, str]] = {}
    for hit in sorted(hits, key=lambda h: -h.score):
        spans.setdefault(hit.start, {}).setdefault(hit.key, hit.value)
    return [
        OptionMention(values, _negated(words, start) and not _says_no(values), start)
        for start, values in sorted(spans.items())
    ]


# Nouns of the conversation, not of a product: "a small request", "one quick big question" name no size.
_TALK_NOUNS = frozenset((w,) for w in tokens(
    "request question problem issue favour favor thing matter mistake detail concern note deal"))


@dataclass(frozen=True)
class _Hit:
    key: str
    value: str
    start: int  # span of the text's words that name the value
    end: int
    score: float  # 1 for the whole value, less for part of it


def _says_no(values: Mapping[str, str]) -> bool:
    """A "none" or "no" value carries its own negation ("no backlight"), which must not rule it out."""
    return any(v.lower() in ("none", "no") for v in values.values())


def _inside(hit: _Hit, other: _Hit) -> bool:
    """``hit`` lies within the longer ``other`` ("gold" within "rose gold")."""
    return other.start <= hit.start and hit.end <= other.end and other.end - other.start > hit.end - hit.start


def _named_values(words: tuple[str, ...], key: str, options: set[str]) -> list[_Hit]:
    """The values of one key the text names; where two overlap, the better (then longer) one."""
    counts = Counter(t for option in options for t in set(tokens(option)))
    hits = [h for option in sorted(options) if (h := _value_match(words, key, option, counts, len(options)))]
    kept: list[_Hit] = []
    for hit in sorted(hits, key=lambda h: (-h.score, h.start - h.end)):
        if all(hit.end <= k.start or k.end <= hit.start for k in kept):
            kept.append(hit)
    return kept


def _value_match(words: tuple[str, ...], key: str, option: str, counts: Counter[str], n_options: int) -> _Hit | None:
    key_words, option_words = tokens(key), tokens(option)
    if option_words in (("none",), ("no",), ("yes",)):
        for i, word in enumerate(words):
            if word in key_words:
                negated = any(w in _NEGATORS | {"no"} for w in words[max(0, i - 2) : i])
                if negated == (option_words != ("yes",)):
                    return _Hit(key, option, i, i + 1, 1.0)
        return None
    n = len(option_words)
    at = find_phrase(words, option_words)
    if at >= 0:
        beside_key = any(w in key_words for w in words[max(0, at - 1) : at] + words[at + n : at + n + 1])
        if not all(_is_number(w) for w in option_words) or beside_key:
            return _Hit(key, option, at, at + n, 1.0)
    # Part of the value: its distinctive words, a number only with the unit after it ("256 gb"),
    # and a unit never alone.
    distinctive = [
        i for i, w in enumerate(option_words)
        if counts[w] < n_options and not (i and _is_number(option_words[i - 1]))
    ] or list(range(n))
    spans = []
    for i in distinctive:
        phrase = option_words[i : i + 2] if _is_number(option_words[i]) else option_words[i : i + 1]
        if len(phrase) == 2 or not _is_number(phrase[0]):
            if (found := find_phrase(words, phrase)) >= 0:
                spans.append((found, found + len(phrase)))
    fraction = len(spans) / len(distinctive)
    if not spans or fraction < 0.5:
        return None
    return _Hit(key, option, min(a for a, _ in spans), max(b for _, b in spans), 0.9 * fraction)


# Words that may stand between a negator and the value it negates ("not the blue one", "rather than art").
_NEGATED_VIA = frozenset({"the", "a", "an", "any", "that", "this", "of", "than", "in", "with", "want", "need", "get"})


def _negated(words: Sequence[str], position: int) -> bool:
    """A negator right before the value, or with only function words between: "if that's not available,
    i5" does not rule out i5. "too large" says what is wrong with the one the shopper has."""
    window = words[max(0, position - 3) : position]
    return (position > 0 and words[position - 1] in ("no", "too")) or any(
        w in _NEGATORS and set(window[i + 1 :]) <= _NEGATED_VIA for i, w in enumerate(window))


@dataclass(frozen=True)
class VariantMatch:
    item_id: str
    score: float
    matched: dict[str, str] = field(default_factory=dict)
    mismatched: dict[str, str] = field(default_factory=dict)  # key -> the value the text asked for


def rank_variants(text: str, variants: Sequence[Variant]) -> list[VariantMatch]:
    """Variants ordered by fit to the text ("the blue one in size M", "clicky switches").

    +1 per named option the variant has, -1 per named option it has with another value, -2 per
    value the text rules out, +1 when its product is named (+0.5 for the product's head noun).
    Ties keep the input order.
    """
    mentions = find_options(text, variants)
    named = named_products(text, dict.fromkeys(v["name"] for v in variants))
    ranked = []
    for variant in variants:
        options = variant["options"]
        matched: dict[str, str] = {}
        mismatched: dict[str, str] = {}
        score = named.get(variant["name"], 0.0)
        for mention in mentions:
            keys = [k for k in mention.values if k in options]
            hit = next((k for k in keys if str(options[k]) == mention.values[k]), None)
            if mention.negated:
                score -= 2.0 if hit else 0.0
            elif hit:
                matched[hit] = mention.values[hit]
                score += 1.0
            elif keys:
                mismatched[keys[0]] = mention.values[keys[0]]
                score -= 1.0
        ranked.append(VariantMatch(str(variant["item_id"]), score, matched, mismatched))
    return sorted(ranked, key=lambda m: -m.score)


def named_products(text: str, names: Iterable[str], taken: Iterable[str] = ()) -> dict[str, float]:
    """Product names in the text: 1.0 for the full name ("mechanical keyboard", "tshirts") or the name
    before its qualifiers, 0.5 for its head noun ("keyboard") when no other product shares it, and 0.5
    for a short form people use (:func:`_clipped`: "my jigsaw", "the watch:" for a Wristwatch) unless
    it is one of the option values in ``taken`` ("the electric one" while a grill is electric).

    Only the product's own words count as evidence: an imported name's qualifiers ("Travel Pillow (free
    for you)") and function words ("you", "everyone") never name it, so hostile or clumsy catalog names
    cannot claim unrelated questions."""
    words = tokens(text)
    joined = {a + b for a, b in zip(words, words[1:])} | set(words)
    written = {_singular(w) for w in re.findall(r"[a-z0-9]+", text.lower())}  # unstemmed: "smartwatches"
    cores = {name: name_core(name) for name in dict.fromkeys(names)}
    heads = Counter(_head(core) for core in cores.values())
    found: dict[str, float] = {}
    for name, core in cores.items():
        if not core:
            continue
        if any(find_phrase(words, phrase) >= 0 or (len(phrase) > 1 and "".join(phrase) in joined)
               for phrase in {tokens(name), core}) or len(core) > 1 and _compound(name) in written:
            found[name] = 1.0
        elif (head := _head(core)) and heads[head] == 1 and head in words:
            found[name] = 0.5
    return found | {name: 0.5 for name in _clipped(text, cores, taken) if name not in found}


def _compound(name: str) -> str:
    """The name written as one word ("smartwatch" for "Smart Watch"), compared unstemmed: stems are cut
    short, and "electric" must not read as "Electric Kettle"."""
    return _singular("".join(re.findall(r"[a-z0-9]+", _QUALIFIERS.split(name, maxsplit=1)[0].lower())))


_CLIP_BEFORE = frozenset({"my", "the", "that", "this", "those", "these", "our", "both", "all", "each", "and", "or"})
_CLIP_AFTER = frozenset(ENGLISH_STOP_WORDS - {"one", "ones"} | {"order", "orders"})


def _clipped(text: str, names: Iterable[str], taken: Iterable[str]) -> list[str]:
    """Names said by a short form standing as a whole noun phrase, after "my"/"the" (or a clause start),
    perhaps with a word or two of description between ("my robot vacuum" for "Vacuum Cleaner"), and
    before no other noun: the first word of a longer name ("my jigsaw" for "Jigsaw Puzzle") or the
    last part of a compound head ("the watch:" for "Wristwatch"). A short form counts only when no other
    name shares it and neither it nor a describing word is a word of another name ("the electric grill"
    names no Electric Kettle)."""
    parts = {name: re.findall(r"[a-z]+", _QUALIFIERS.split(name, maxsplit=1)[0].lower()) for name in names}
    parts = {name: [_singular(w) for w in p] for name, p in parts.items() if p}
    used = Counter(w for p in parts.values() for w in set(p))  # "the electric grill": "electric" is no Electric Kettle
    words = re.findall(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", text.lower())

    def opens(i: int) -> bool:  # a noun phrase starts at or up to two describing words before ``words[i]``
        for j in range(i, max(-1, i - 3), -1):
            if j == 0 or not words[j - 1][0].isalnum() or words[j - 1] in _CLIP_BEFORE:
                return j == i or words[j - 1] in _CLIP_BEFORE
            if not words[j - 1].isalpha() or words[j - 1] in ENGLISH_STOP_WORDS or _singular(words[j - 1]) in used:
                return False
        return False

    alone = {_singular(w) for i, w in enumerate(words) if w.isalpha() and opens(i)
             and (i + 1 == len(words) or not words[i + 1][0].isalnum() or words[i + 1] in _CLIP_AFTER)}
    alone -= ENGLISH_STOP_WORDS | {_singular(str(v).lower()) for v in taken}
    short = {name: {w for w in alone if len(w) > 3 and ((len(p) > 1 and w == p[0]) or (len(p[-1]) - len(w) > 2 and p[-1].endswith(w)))}
             for name, p in parts.items()}
    claims = Counter(w for said in short.values() for w in said)
    return [name for name, said in short.items()
            if said and all(claims[w] == 1 and used[w] == (w in parts[name]) for w in said)]


def _singular(word: str) -> str:
    """"watches" → "watch", "jigsaws" → "jigsaw", "glasses" → "glass" (comparable short forms, not a stemmer)."""
    return re.sub(r"(?:(?<=[sxz])|(?<=ch)|(?<=sh))es$|(?<![su])s$", "", word) if len(word) > 3 else word


# A name's qualifiers start at a bracket, colon, comma, semicolon, bar or spaced dash: "Lamp (brass)", "Mug, 12 oz".
_QUALIFIERS = re.compile(r"[(\[{:,;|]|\s[-–—]\s")
_FUNCTION_WORDS = frozenset(_stem(w) for w in ENGLISH_STOP_WORDS)


@lru_cache(maxsize=8192)
def name_core(name: str) -> tuple[str, ...]:
    """The words naming the product itself: the name before its qualifiers."""
    return tokens(_QUALIFIERS.split(name, maxsplit=1)[0]) or tokens(name)


def _head(core: Sequence[str]) -> str | None:
    """The head noun of a name: its last content word ("keyboard" in "mechanical keyboard")."""
    return next((w for w in reversed(core) if w.isalpha() and len(w) > 2 and w not in _FUNCTION_WORDS), None)


# "If that fails" / "otherwise": the words after it are the shopper's fallback, another change or leaving the
# item alone. One cue for every reader (``resolve.fallback_request``, ``variant_choice.leaves_alone``).
_NEG = r"(?:not|no longer|cannot|\w+n['’]t|(?:do|does|did|is|are|was|were|ca|could|would|wo|should|has|have|had)nt)"
_CAN = (r"(?:available|possible|allowed|permitted|work\w*|exist\w*|in stock|find\w*|found|ha(?:ve|s)(?: it| one)?"
        r"|do(?: it| that| this)?|be (?:done|found|used|swapped|exchanged|changed|modified)|go(?:es)? through)")
FALLBACK = re.compile(
    r"\b(?:(?P<cue>if(?:\s+[\w'’-]+){0,4}?\s+(?:" + _NEG + r"(?:\s+\w+){0,2}?\s+" + _CAN
    + r"|unavailable|impossible|out of stock|sold out)|if (?:you|we|it|that|this|they) (?:can'?t|cannot|couldn'?t|won'?t|doesn'?t)"
    r"|if there(?:'s| is| are) no)\b"
    # up to the fallback's own verb, which spoken text marks with no comma: "if it can't be swapped return it"
    r"[^,.;]*?(?=[,.;]|$|\s+(?:then\s+)?(?:please\s+)?(?:just\s+)?(?:cancel|return|remove|send|refund|keep|leave|skip"
    r"|forget|never ?mind|don'?t)\b)"
    r"|if not|otherwise|or else|(?<=[,;:.]\s)else|failing that)\b[,:]?", re.I)  # "clicky, else leave it"


# --- search filters --------------------------------------------------------------------------

_BASIC_COLORS = ("black", "white", "red", "blue", "green", "yellow", "purple", "pink", "orange", "brown",
                 "grey", "gray", "silver", "gold", "beige", "navy")
_IN_STOCK = re.compile(r"\b(?:in stock|available|on hand|ready to ship)\b")


def parse_search_filters(text: str, variants: Sequence[Variant] = ()) -> SearchFilters:
    """Filters for the retrieval API in "red t-shirts in size M under $30 in stock".

    With catalog ``variants``, options and the product are matched against real values (options only
    within the named product); without them only basic colors and "size X" are read.
    """
    from shopagent.retrieval.search import SearchFilters  # chromadb is slow to import; most turns never search

    low, high = find_price_bounds(text)
    cents = {"min_price_cents": _cents(low), "max_price_cents": _cents(high)}
    in_stock = bool(_IN_STOCK.search(text.lower()))
    if not variants:
        return SearchFilters(None, options=_basic_options(text), in_stock=in_stock, **cents)
    named = named_products(text, dict.fromkeys(v["name"] for v in variants))
    category = max(named, key=named.__getitem__) if named else None
    scope = [v for v in variants if v["name"] == category] if category else list(variants)
    words = set(tokens(text))
    options: dict[str, str] = {}
    for mention in find_options(text, scope):
        if mention.negated:
            continue
        # "black" is a color, a frame color and a dial color: prefer the key the text names, else
        # the key most variants in scope give that value.
        said = [k for k in mention.values if set(tokens(k)) & words]
        usage = Counter(k for v in scope for k, value in mention.values.items() if str(v["options"].get(k)) == value)
        key = said[0] if said else max(mention.values, key=usage.__getitem__)
        options.setdefault(key, mention.values[key])
    return SearchFilters(category, options=options, in_stock=in_stock, **cents)


def _cents(dollars: float | None) -> int | None:
    return None if dollars is None else round(dollars * 100)


def _basic_options(text: str) -> dict[str, str]:
    s = spoken_to_digits(text)
    options = {}
    if color := next((c for c in _BASIC_COLORS if re.search(rf"\b{c}\b", s)), None):
        options["color"] = color
    if size := re.search(r"\bsize\s+([a-z0-9.]+)", s):
        options["size"] = size.group(1).upper() if size.group(1).isalpha() else size.group(1)
    return options


# --- everything at once ----------------------------------------------------------------------


@dataclass(frozen=True)
class Entities:
    """The catalog-free entities of one message (the first of each kind where one is expected)."""

    order_ids: list[str] = field(default_factory=list)
    email: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    zip: str | None = None
    payment_methods: list[PaymentMention] = field(default_factory=list)
    price_min: float | None = None
    price_max: float | None = None
    quantity: int | None = None
    all_items: bool = False


def extract_entities(text: str, name_asked: bool = False) -> Entities:
    """Everything :mod:`entities` reads without a catalog; ``name_asked``: see :func:`find_name`."""
    name = find_name(text, asked=name_asked)
    emails = find_emails(text)
    low, high = find_price_bounds(text)
    return Entities(
        order_ids=find_order_ids(text),
        email=emails[0] if emails else None,
        first_name=name.first if name else None,
        last_name=name.last if name else None,
        zip=find_zip(text),
        payment_methods=find_payment_methods(text),
        price_min=low,
        price_max=high,
        quantity=find_quantity(text),
        all_items=mentions_all_items(text),
    )
