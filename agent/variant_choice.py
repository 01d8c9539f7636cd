"""Choosing the variant a shopper wants in place of one they own.

"The same one in red", "a bigger size", "the cheapest one with clicky switches", "the same type as the
one I already received": pure functions that rank a product's available variants against what was said
and the current item's options, so an exchange or modification asks only when the words leave a real
choice. Reading option values from the words is :mod:`entities`' job.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shopagent.agent import entities
from shopagent.agent.entities import Record


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
_COMPARATIVES = frozenset((*_UP, *_DOWN))
_EXTREME = frozenset(w for w in (*_UP, *_DOWN) if w.endswith("est") or w in ("max", "maximum", "min", "minimum"))
# Words that say which option a comparison is about ("less bright": brightness; "bigger": size or capacity).
_ABOUT = {"bright": ("brightness",), "dim": ("brightness",), "big": ("size", "capacity"), "larg": ("size", "capacity"),
          "small": ("size", "capacity"), "long": ("length",), "short": ("length",), "tall": ("height",),
          "thick": ("thickness",), "thin": ("thickness",), "heavi": ("weight",), "light": ("weight",),
          "easi": ("difficulty",), "simpl": ("difficulty",), "hard": ("difficulty",), "difficult": ("difficulty",),
          "piec": ("piece",), "zoom": ("zoom",), "resolut": ("resolution",), "storag": ("storage",),
          "capacit": ("capacity",), "pressur": ("pressure",), "batter": ("battery",), "screen": ("screen",),
          "frame": ("frame size",), "ventil": ("ventilation",), "ram": ("ram",), "memory": ("ram",)}
_STEP_NOUNS = frozenset({"size", "sizes", "step", "steps", "level", "levels", "notch", "notches"})  # count steps, not units
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
    # "the smallest number of pieces" is about the pieces
    words = re.sub(r"\b(?:number|amount|count) of\b|[^a-z0-9. ]+", " ", entities.spoken_to_digits(text)).split()
    wants: list[Relative] = []
    for i, word in enumerate(words):
        if word not in _UP and word not in _DOWN:
            continue
        if words[i + 1 : i + 2] in (["expensive"], ["pricey"], ["costly"]):
            continue  # price, see price_preference
        direction = 1 if word in _UP else -1
        by = float(words[i - 1]) if i and re.fullmatch(r"\d+(?:\.\d+)?", words[i - 1]) else None
        if by is None and i > 1 and re.fullmatch(r"\d+(?:\.\d+)?", words[i - 2]) and words[i - 1] not in _STEP_NOUNS and (
                key := _key_about(words[i - 1], options)) is not None:  # "500 pieces less" (not "one size smaller")
            wants.append(Relative(key, direction, False, float(words[i - 2])))
            continue
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


# Units told apart by order or by a label ("Kettle one: …, Kettle two: …", "mug 1: …").
_FIRST_UNIT = re.compile(r"\b(?:first|1st)\b|\bone\b(?= (?:for|to|into|with|should|in)\b)|\b(?:one|1)\s*:(?!\d)", re.I)
_LATER_UNIT = re.compile(r"\b(?:the other|second|2nd|third|3rd)\b|\b(?:two|three|[23])\s*:(?!\d)", re.I)
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


# "same screen size", "keep the color, size and material" ("and" joins options, never ends the first one)
_KEEP = re.compile(r"\b(?:same|keep(?:ing)?(?: the)?|still)\s+(\w+(?:\s(?!and\b)\w+)?(?:(?:,| and| &)(?: the)? \w+)*)", re.I)


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
    text, ranked = _choice(text, current, list(candidates.values()))
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
    _, ranked = _choice(text, current, list(_candidates(current, variants).values()))
    if not ranked:
        return []
    best = max(score for score, _, _ in ranked)[:4]
    tied = [variant for score, variant, _ in ranked if score[:4] == best]
    return tied if len(tied) > 1 else []


_Ranking = list[tuple[tuple[Any, ...], Record, set[str]]]  # (fit, variant, the options talked about) each


def _choice(text: str, current: Record, candidates: list[Record]) -> tuple[str, _Ranking]:
    """The words of the choice to make, with the variants that fit them (:func:`_ranked`): the whole
    text when a variant fits it, else "clicky, keep the RGB; if that doesn't exist, clicky without
    backlight will do" read as a first choice, then its fallback (the two together ask for RGB and no
    backlight at once)."""
    ranked = _ranked(text, current, candidates)
    if ranked or (mark := entities.FALLBACK.search(text)) is None:
        return text, ranked
    for words in (text[: mark.start()], text[mark.end() :]):
        if fits := _ranked(words, current, candidates):
            return words, fits
    return text, ranked


def _ranked(text: str, current: Record, candidates: list[Record]) -> _Ranking:
    """Each candidate holding every stated wish, with its fit (see :func:`choose_variant`) and the
    options the shopper talked about."""
    if not candidates:
        return []
    mine = current["options"]
    wants = relative_wants(text, mine)
    price = price_preference(text)
    keep = _kept(text, mine)
    wishes = _wishes(text, mine, candidates)
    ranked: _Ranking = []
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


# "the same type as the one I already received", "the same grill I got before", "same color as the hose in my
# pending order", "make it match my old one": another owned item is the model (a reference naming where it is,
# not "the same size as now").
_HAD_BEFORE = r"old|older|previous|earlier"  # "my old one": one the shopper had before this request
SAME_AS = re.compile(r"\b(?:same\s+(?P<what>(?:[\w-]+\s+){0,2}?)(?:as\s+|(?:that\s+|which\s+)?(?=(?:i|we)\b))"
                     r"|(?<!not )(?<!n't )(?<!nt )(?<!exact )(?<!\bno )(?<!\ba )(?<!\bthe )(?<!\bany )(?<!perfect )match(?:es|ing)?\s+(?:with\s+)?)(?P<ref>[^.;!?]*?\b(?:other|another|order|received|got|delivered|"
                     rf"ordered|bought|purchased|pending|already (?:have|own)|{_HAD_BEFORE})\b[^.;!?,]*)", re.I)
ON_ORDER = re.compile(r"\b(?:pending|(?:just|recently) ordered|on (?:its|the) way|not (?:\w+ )?(?:arrived|delivered|shipped))\b", re.I)
_KIND_WORDS = re.compile(r"\b(?:type|kind|model|version|variant|one|item|thing|specs?)\b", re.I)
RECEIVED = re.compile(r"\b(?:received|got|delivered|arrived|already (?:have|own))\b", re.I)
RECEIVED_REF = re.compile(rf"{RECEIVED.pattern}|\b(?:{_HAD_BEFORE})\b", re.I)


def copied_options(text: str, current: Record, owned: Iterable[tuple[str, Record]]) -> dict[str, str]:
    """The option values to copy from another owned item of this product, when the shopper asks for
    "the same type as the one I already received" (all its options) or "the same color as my other
    mug" (those named): ``owned`` holds (its order's status, item) for each of their items. Nothing
    unless exactly one other variant fits the reference."""
    said = SAME_AS.search(text)
    if said is None:
        return {}
    ref = said.group("ref")
    others = [(status, i) for status, i in owned
              if i.get("product_id") == current.get("product_id") and i["options"] != current["options"]]
    if ON_ORDER.search(ref):
        others = [(s, i) for s, i in others if s.startswith("pending") or s == "processed"]
    elif RECEIVED_REF.search(ref):  # still received when an exchange or return of another item was asked since
        others = [(s, i) for s, i in others if s in ("delivered", "exchange requested", "return requested")]
    models = {tuple(sorted((k, str(v)) for k, v in i["options"].items())) for _, i in others}
    if len(models) != 1:
        return {}
    model = dict(models.pop())
    what = said.group("what") or ""
    what = "" if _KIND_WORDS.search(what) else what  # "the same type/model", "match my old one": all of it
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
    the product is not named in it. Spoken text has no commas, so a clause naming several products is
    cut where each one's noun phrase starts ("a red helmet instead of mine a black luggage set …")."""
    names = list(names)
    shared: list[tuple[int, str]] = []
    own: list[tuple[int, str]] = []
    current: set[str] = set()
    pieces = [(n, piece) for n, c in enumerate(re.split(r"(?:[,;:!?]|\.(?!\d))+", text))  # "1.5 liters" stays whole
              for piece in _noun_phrases(c, names)]
    for at, (_, piece) in enumerate(pieces):
        named = set(entities.named_products(piece, names)) or current
        current = named
        (own if name in named else shared if not named else []).append((at, piece))
    if not own:
        return text
    out, last = "", None
    for at, piece in [*shared, *own]:
        # pieces of one clause that stay neighbours are one phrase again ("the same type as" "the grill I received")
        joined = last is not None and at == last + 1 and pieces[at][0] == pieces[last][0]
        out, last = (out + " " if joined else out + ", " if last is not None else out) + piece, at
    return out


_DETERMINERS = frozenset({"a", "an", "the", "my", "our", "this", "that", "these", "those"})
_PHRASE_END = frozenset({"one", "ones", "it", "them", "mine", "for", "to", "into", "with", "instead", "of", "and", "or"})


def _noun_phrases(clause: str, names: list[str]) -> list[str]:
    """A clause naming several products cut before each product's noun phrase: at its determiner when
    one precedes the name by a few describing words ("a soft black two piece luggage set"), else at the
    name ("… high ventilation luggage set two piece …"). A clause naming one product stays whole."""
    if len(entities.named_products(clause, names)) < 2:
        return [clause]
    words = clause.split()
    alone = [set(entities.named_products(w, names)) for w in words]
    named = {w for n in names for w in entities.tokens(n)}  # the words of product names
    cuts: list[int] = []
    for i, products in enumerate(alone):
        if not products or (i and products <= alone[i - 1]):
            continue  # no name starts here: "set" after "luggage"
        cut = i
        for j in range(i - 1, max(i - 6, cuts[-1] if cuts else -1, -1), -1):
            if alone[j] or words[j].lower() in _PHRASE_END:
                break
            if words[j].lower() in _DETERMINERS:
                cut = j
                break
        start = cuts[-1] if cuts else 0
        before = [w.lower() for w in words[start:cut]]
        if before[-1:] in (["and"], ["or"]) and all(w in _DETERMINERS or set(entities.tokens(w)) <= named for w in before[:-1]):
            continue  # "the pet bed and the office chair for their cheapest versions": what follows is about both
        if cut > start:
            cuts.append(cut)
    return [" ".join(words[a:b]) for a, b in zip([0, *cuts], [*cuts, len(words)]) if b > a]


def missing_wishes(text: str, current: Record, variants: Iterable[Record]) -> list[str]:
    """The option values stated ("clicky", "RGB", "full size") when no available variant has them all
    together: what to tell the shopper instead of substituting the closest one; else nothing."""
    candidates = list(_candidates(current, variants).values())
    mine = current["options"]
    required, keep, wants = _wishes(text, mine, candidates).required, _kept(text, mine), relative_wants(text, mine)
    if any(all(_holds(v["options"], need) for need in required) and all(v["options"].get(k) == mine[k] for k in keep)
           and _steps(wants, mine, v["options"]) is not None for v in candidates):
        return []
    return list(dict.fromkeys([  # a wish said again on a later turn is one wish
        *(" or ".join(sorted({v for values in need.values() for v in values})) for need in required),
        *(f"the same {k} ({mine[k]})" for k in keep),  # "same resolution, just the maximum zoom" and no such one
        *(f"{'more' if w.direction > 0 else 'less'} {w.key}" for w in wants if w.by is None)]))


def _kept(text: str, mine: Mapping[str, Any]) -> list[str]:
    """The options the shopper keeps, in the product's order: "same size", "keep the color and material"."""
    said = [m.group(1) for m in _KEEP.finditer(text)]
    return [k for k in mine if any(_stem_in(words, k) for words in said)]


_LEAVE_IT = re.compile(
    entities.FALLBACK.pattern + r"[^.;!?]*?\b(?P<leave>(?:leave|keep)\b[^.;!?]{0,40}?\b(?:alone|as (?:it )?is|as they are|unchanged)\b"
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
_INDIFFERENT = frozenset({"matter", "care", "whatever", "either", "fussed", "bothere", "mind", "importa"})  # "not fussed"
_INDIFFERENT_VIA = frozenset({"or", "not", "no", "doesnt", "dont", "doe", "do", "i", "im", "really", "it", "is", "isnt"})
_IF_SOFT = frozenset({"possibl", "need", "needed", "necessa", "can", "you"})  # "polyester if possible"
_IF_NOT = frozenset({"cant", "cannot", "not", "no", "isnt", "doesnt", "dont", "wont", "couldnt"})  # "… if you can't, cancel": a fallback


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
        elif not m.negated and (_PREFER_BEFORE & set(before) or ("if" in after and _IF_SOFT & set(after)
                                                                  and not _IF_NOT & set(words[m.position + 1 :][after.index("if"):][:4]))
              or (before[-1:] == ("or",) and i and not mentions[i - 1].values.keys() & m.values.keys())):
            soft.setdefault(i, 1)  # "prefer silver", "polyester if possible", "clicky, or no backlight"
        elif not m.negated and before[-1:] in (("then",), ("or",)) and (earlier := [
                soft[j] for j in range(i) if soft.get(j, 0) > 0 and mentions[j].values.keys() & m.values.keys()]):
            soft[i] = min(earlier) / 2  # "I prefer battery, then USB, then AC": each next one counts less
    for i, weight in _compared(words, mentions, candidates).items():
        soft.setdefault(i, weight)
    indifferent = {i for i, m in enumerate(mentions) if _indifferent(words, m)}
    # "500 pieces less": an amount to change by (see relative_wants), not a value asked for
    indifferent |= {i for i, m in enumerate(mentions) if _COMPARATIVES & set(words[m.position + 1 : m.position + 3])}
    hard = [m for i, m in enumerate(mentions) if i not in soft and i not in indifferent and not m.negated]
    readings = [{k: v for k, v in m.values.items() if k in mine} for m in hard]
    sole = {k for r in readings if len(r) == 1 for k in r}  # "medium, high ventilation": medium is the size
    readings = [{k: v for k, v in r.items() if k not in sole} or r if len(r) > 1 else r for r in readings]
    # "the 1000-piece jigsaw … the one with the fewest pieces": a comparison changes that option too
    changed = {k for r in readings for k, v in r.items() if v != str(mine[k])} | {w.key for w in relative_wants(text, mine)}
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


def _compared(words: tuple[str, ...], mentions: list[entities.OptionMention], candidates: list[Record]) -> dict[int, float]:
    """"art over animal", "art rather than animals", "prefer art to animals" wherever said: +1 for the
    preferred value's mention, -1 for the one passed over. A value said twice has one mention, at its
    first place ("… an art theme … art over animal"), so the values beside the comparison are read anew."""
    weights: dict[int, float] = {}
    for p, word in enumerate(words):
        if word not in _OVER and not (word == "to" and _PREFER_BEFORE & set(words[max(0, p - 6) : p])):
            continue
        preferred = entities.find_options(" ".join(words[max(0, p - 3) : p]), candidates)
        passed = entities.find_options(" ".join(words[p + 1 : p + 4]), candidates)
        for weight, said in ((1.0, preferred), (-1.0, passed)) if preferred else ():
            for i, m in enumerate(mentions):
                if not m.negated and any(m.values.items() & x.values.items() for x in said):
                    weights.setdefault(i, weight)
    return weights


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
