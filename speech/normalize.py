"""Write out what customers spell aloud: order ids, digit strings and email addresses.

Whisper hears "W two six one one three four zero" or "john dot smith at example dot com" and writes
the words, or digits split by spaces and dashes ("W-2-6-1-1"). The agent looks orders and customers
up by exact strings, so the transcript gets them back in written form. Spelled numbers are read by
Whisper's own ``EnglishNumberNormalizer`` (the one its English WER normalizer uses), applied only to
runs of two or more number words so that "this one" or "oh, I see" stay as they are.
"""

from __future__ import annotations

import re
from functools import cache

_NUMBER_WORDS = (
    "zero oh one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
    "double triple"
).split()
_NUMBER_WORD = r"(?:" + "|".join(_NUMBER_WORDS) + r")"
# Two or more number words in a row (separated by spaces, commas or dashes), as whole words.
_NUMBER_RUN = re.compile(rf"\b{_NUMBER_WORD}(?:[\s,-]+{_NUMBER_WORD})+\b", re.IGNORECASE)

# A letter prefix then digits split by spaces/dashes/dots: "W 26 11 340", "W-2-6-1-1-3-4-0", "w2611340".
# "a" and "I" are words, not prefixes; at least 4 digits so "B 12" (a seat, a size) is left alone.
_PREFIXED_ID = re.compile(r"\b(?![aAI]\b)([A-Za-z])[\s.-]*(\d(?:[\s-]*\d){3,})\b")
# Three or more short digit groups separated by single spaces/dashes: a number read out in pieces.
_DIGIT_GROUPS = re.compile(r"(?<![\d.,$])\b\d{1,4}(?:[ -]\d{1,4}){2,}\b(?![.,]\d)")

_SEP = r"(?:\s*(?:\.|\bdot\b)\s*)"
_LOCAL_SEP = {"dot": ".", "underscore": "_", "dash": "-", "hyphen": "-", "plus": "+"}
_EMAIL = re.compile(
    r"\b(?P<local>[a-z0-9]+(?:\s*(?:[._+-]|\b(?:dot|underscore|dash|hyphen|plus)\b)\s*[a-z0-9]+)*)"
    r"\s*(?:\bat\b|@)\s*"
    rf"(?P<domain>[a-z0-9-]+(?:{_SEP}[a-z0-9-]+)*{_SEP}(?P<tld>[a-z]{{2,6}}))\b",
    re.IGNORECASE,
)
_EMAIL_CONTEXT = re.compile(r"\b(?:e-?mail|mail|address)\b", re.IGNORECASE)
_SPOKEN_SEPARATOR = re.compile(r"\b(?:dot|underscore|dash|hyphen)\b", re.IGNORECASE)


@cache
def _number_normalizer():  # imported lazily: whisper pulls in torch
    from whisper.normalizers.english import EnglishNumberNormalizer

    return EnglishNumberNormalizer()


def normalize_spoken(text: str) -> str:
    """Turn spoken ids, digit strings and emails into their written form; leave everything else."""
    text = _EMAIL.sub(_email, text)
    text = _NUMBER_RUN.sub(lambda m: _number_normalizer()(m.group(0).replace(",", " ")), text)
    text = _PREFIXED_ID.sub(lambda m: m.group(1).upper() + re.sub(r"\D", "", m.group(2)), text)
    return _DIGIT_GROUPS.sub(lambda m: re.sub(r"\D", "", m.group(0)), text)


def _email(match: re.Match[str]) -> str:
    """Rewrite a spoken address; only when it is clearly one ("at" is a common word)."""
    spoken = match.group(0)
    if not (_SPOKEN_SEPARATOR.search(match.group("local")) or "@" in spoken
            or _EMAIL_CONTEXT.search(match.string[: match.start()])):
        return spoken
    local = re.sub(r"\s*\b(dot|underscore|dash|hyphen|plus)\b\s*",
                   lambda m: _LOCAL_SEP[m.group(1).lower()], match.group("local"), flags=re.IGNORECASE)
    domain = re.sub(_SEP, ".", match.group("domain"), flags=re.IGNORECASE)
    return (re.sub(r"\s+", "", local) + "@" + domain).lower()
