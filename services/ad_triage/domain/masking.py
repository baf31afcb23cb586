"""Mask contact details inside free text, keeping every character offset.

Ad text often repeats the phone number or handle ("ring 2 9 9 9 ..."). Stored text and scoring evidence must not
carry it, yet evidence spans point into the text, so each masked character is replaced by one MASK character:
offsets computed on masked text stay valid and no regex indicator can match inside a mask.
"""
from __future__ import annotations

import re
from collections.abc import Iterable

from .deobfuscation import NUMBER_WORDS

MASK = "\u2588"  # full block: never occurs in ad text and is not a word character for the indicator regexes
MIN_PHONE_DIGITS = 6  # shorter digit runs are prices, ages and times; longer ones are treated as numbers

_WORDS = "|".join(sorted(NUMBER_WORDS, key=lambda w: (-len(w), w)))
# One "digit": an ASCII or Unicode decimal digit (optionally keycapped), a number word, or a lookalike letter.
_UNIT = rf"(?:\d\ufe0f?\u20e3?|[\u2460-\u2468\u2776-\u277e]|{_WORDS}|[oOlI])"
_SEP = r"[ \t.\-_/()*,]{0,3}"
# Whole runs only (no letter or digit on either side), and not a price range such as "1500-2500 kr".
_RUN_START, _RUN_END = r"(?<![^\W_])", r"(?![^\W_])(?!\s*(?:kr\b|kroner|dkk|eur|€|,-))"
_PHONE = re.compile(
    rf"{_RUN_START}(?:\+|00|plus\s?)?{_UNIT}(?:{_SEP}{_UNIT}){{{MIN_PHONE_DIGITS - 1},}}{_RUN_END}",
    re.IGNORECASE,
)
_EMAIL = re.compile(
    r"[\w.+-]+\s*(?:@|[(\[]\s*(?:at|snabel-a)\s*[)\]])\s*[\w-]+(?:\s*(?:\.|[(\[]\s*(?:dot|punktum)\s*[)\]])\s*[\w-]+)+",
    re.IGNORECASE,
)
_AT_HANDLE = re.compile(r"(?<![\w@])@[\w.]{2,}")
_LINK_HANDLE = re.compile(r"\b(?:t\.me|wa\.me|snapchat\.com/add|instagram\.com|kik\.me)/[\w.+-]+", re.IGNORECASE)
# "snap: anna_dk", "telegram - annadk": the handle follows the app name; mask only the handle.
_NAMED_HANDLE = re.compile(
    r"\b(?:snap(?:chat)?|telegram|tg|kik|insta(?:gram)?|wickr|wechat|line|signal|whatsapp|wa)\b"
    r"\s*(?:id|user(?:name)?|navn)?\s*[:=\-]\s*(?P<handle>[\w.]{3,})",
    re.IGNORECASE,
)
_PATTERNS = (_EMAIL, _LINK_HANDLE, _AT_HANDLE, _PHONE)


def _spans(text: str) -> Iterable[tuple[int, int]]:
    for pattern in _PATTERNS:
        for match in pattern.finditer(text):
            yield match.span()
    for match in _NAMED_HANDLE.finditer(text):
        yield match.span("handle")


def mask_contacts(text: str, known_values: Iterable[str] = ()) -> str:
    """Replace phone-, e-mail- and handle-like substrings (and any ``known_values``) by MASK characters.

    ``known_values`` are the ad's own contact values, masked wherever they appear verbatim, in case a value
    slips past the patterns. The result has exactly the same length as ``text``; masking is idempotent.
    """
    chars = list(text)
    spans = list(_spans(text))
    for value in known_values:
        needle = value.strip()
        if len(needle) < 3:  # masking every "a" or "12" would destroy the text and protect nothing
            continue
        spans += [m.span() for m in re.finditer(re.escape(needle), text, re.IGNORECASE)]
    for start, end in spans:
        chars[start:end] = MASK * (end - start)
    return "".join(chars)
