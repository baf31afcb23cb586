"""Mask contact details inside free text, keeping every character offset of the normalised text.

Ad text often repeats the phone number or handle ("ring 2 9 9 9 ..."). Stored text and scoring evidence must not
carry it, yet evidence spans point into the text, so each masked character is replaced by one MASK character:
offsets computed on masked text stay valid and no regex indicator can match inside a mask.

Text is first normalised (NFKC, format characters such as zero-width joiners removed, see
deobfuscation.normalise_text): the masked text is the normalised text, so a number written in fullwidth or
mathematical digits, or with invisible characters between its digits, is found like any other.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from .deobfuscation import NUMBER_WORDS, normalise_text

MASK = "\u2588"  # full block: never occurs in ad text and is not a word character for the indicator regexes
MIN_PHONE_DIGITS = 6  # shorter digit runs are prices, ages and times; longer ones are treated as numbers

_WORDS = "|".join(sorted(NUMBER_WORDS, key=lambda w: (-len(w), w)))
# One "digit": an ASCII or Unicode decimal digit (optionally keycapped), a number word, or a lookalike letter.
# digits that NFKC leaves alone yet read as one (dingbat and double-circled digits): found once, at import
_GLYPH_DIGITS = "".join(sorted(
    ch for cp in (*range(0x2070, 0x2800), *range(0x1F100, 0x1F110)) if (ch := chr(cp)).isprintable()
    and unicodedata.digit(ch, None) is not None and not normalise_text(ch).isascii()))
_UNIT = rf"(?:\d\ufe0f?\u20e3?|[{re.escape(_GLYPH_DIGITS)}]|{_WORDS}|[oOlI])"
_SEP = r"[\s.\-_/\\()\[\]*,·•|~\u2010-\u2015\u2212]{0,3}"
# Whole runs only (no digit on either side), and not a price range such as "1500-2500 kr". A run glued to a word
# ("Anna29991234", "Annatwoninenine...") is a run all the same; a run of six number words inside ordinary text
# does not occur, so at worst a few letters beside a number are masked with it.
_RUN_START = rf"(?:(?<![^\W_])|(?<=[^\W\d_])(?=\d|{_WORDS}))"
_RUN_END = r"(?!\d)(?!\s*(?:kr\b|kroner|dkk|eur|€|,-))"
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
    slips past the patterns. The result has exactly the length of the normalised ``text`` (the same length for
    text without format characters); masking is idempotent.
    """
    text = normalise_text(text)
    chars = list(text)
    spans = list(_spans(text))
    for value in known_values:
        needle = normalise_text(value).strip()
        if len(needle) < 3:  # masking every "a" or "12" would destroy the text and protect nothing
            continue
        spans += [m.span() for m in re.finditer(re.escape(needle), text, re.IGNORECASE)]
    for start, end in spans:
        chars[start:end] = MASK * (end - start)
    return "".join(chars)


URL_MASK = "*"  # a character a URL may carry: a masked URL still parses as one


def mask_url(url: str, known_values: Iterable[str] = ()) -> str:
    """A URL with its contact details masked by URL_MASK ("https://x.example/anna-29991234" keeps its host)."""
    return mask_contacts(url, known_values).replace(MASK, URL_MASK)


def has_contact(value: str, known_values: Iterable[str] = ()) -> bool:
    """Whether masking would change ``value`` beyond normalising it."""
    return mask_contacts(value, known_values) != normalise_text(value)
