"""Find contact details inside free text and mask them, keeping every character offset of the normalised text.

Ad text often repeats the phone number or handle ("ring 2 9 9 9 ..."). Stored text and scoring evidence must not
carry it, yet evidence spans point into the text, so each masked character is replaced by one MASK character:
offsets computed on masked text stay valid and no regex indicator can match inside a mask.

Text is first normalised (NFKC, format characters such as zero-width joiners removed, see
deobfuscation.normalise_text): the masked text is the normalised text, so a number written in fullwidth or
mathematical digits, or with invisible characters between its digits, is found like any other.

The same scan (``scan_contacts``) tells contacts.contacts_in_text what it found, so a number that is only in the
text links ads exactly like one in the contacts field, from one set of patterns and one pass over the text.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

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
# does not occur, so at worst a few letters beside a number are masked with it. The run includes its '+' ("+ 4 0 7
# ...", "Anna+4072..."): the number it belongs to is a different one without it.
_RUN_START = rf"(?:(?<![^\W_])|(?<=[^\W\d_])(?=\+|\d|{_WORDS}))"
_RUN_END = r"(?!\d)(?!\s*(?:kr\b|kroner|dkk|eur|€|,-))"
_PHONE = re.compile(
    rf"{_RUN_START}(?:\+\s?|00|plus\s?)?{_UNIT}(?:{_SEP}{_UNIT}){{{MIN_PHONE_DIGITS - 1},}}{_RUN_END}",
    re.IGNORECASE,
)
# A number word or lookalike letter at either end of a run: "Phone 2999..." reads as "one 2999..." to _PHONE,
# so extraction may drop such units again (contacts._phone_candidates).
EDGE_UNIT_HEAD = re.compile(rf"(?:{_WORDS}|[oOlI]){_SEP}", re.IGNORECASE)
EDGE_UNIT_TAIL = re.compile(rf"{_SEP}(?:{_WORDS}|[oOlI])\Z", re.IGNORECASE)
_EMAIL = re.compile(
    r"[\w.+-]+\s*(?:@|[(\[]\s*(?:at|snabel-a)\s*[)\]])\s*[\w-]+(?:\s*(?:\.|[(\[]\s*(?:dot|punktum)\s*[)\]])\s*[\w-]+)+",
    re.IGNORECASE,
)
_AT_HANDLE = re.compile(r"(?<![\w@])@[\w.]{2,}")
# The contact kind each link host stands for; wa.me carries an international number without '+'.
LINK_KINDS = {"t.me": "telegram", "wa.me": "whatsapp", "snapchat.com/add": "snapchat", "instagram.com": "instagram",
              "kik.me": "kik"}
_LINK_HANDLE = re.compile(
    rf"\b(?P<app>{'|'.join(re.escape(h) for h in LINK_KINDS)})/(?P<handle>[\w.+-]+)", re.IGNORECASE)
# App names advertisers write before a handle, and the contact kind each stands for (None: the app has no kind).
APP_KINDS: dict[str, str | None] = {
    "snap": "snapchat", "snapchat": "snapchat", "telegram": "telegram", "tg": "telegram", "kik": "kik",
    "insta": "instagram", "instagram": "instagram", "wickr": None, "wechat": "wechat", "line": "line",
    "signal": "signal", "whatsapp": "whatsapp", "wa": "whatsapp",
}
_APPS = "|".join(sorted(APP_KINDS, key=lambda w: (-len(w), w)))
# "snap: anna_dk", "telegram - annadk": the handle follows the app name; mask only the handle.
_NAMED_HANDLE = re.compile(
    rf"\b(?P<app>{_APPS})\b\s*(?:id|user(?:name)?|navn)?\s*[:=\-]\s*(?P<handle>[\w.]{{3,}})", re.IGNORECASE)
# A bare "@anna_dk" belongs to an app only when the clause just before it names one ("find me on snap @anna_dk").
_APP_BEFORE = re.compile(rf"\b({_APPS})\b", re.IGNORECASE)
_CLAUSE_BREAK = re.compile(r"[.!?\n]")
_APP_WINDOW = 24

UNNAMED = "handle"  # kind of a handle whose app the text does not say


@dataclass(frozen=True)
class Found:
    """A contact detail in normalised text: ``span`` is what masking hides, ``value`` (inside it) the contact."""

    kind: str  # "phone", "email", the kind an app name or link stands for ("telegram", "whatsapp"), or UNNAMED
    span: tuple[int, int]
    value: tuple[int, int]


@dataclass(frozen=True)
class Scan:
    """One pass over a text: its normalised form and what was found in it. Holds contact values: never store it."""

    original: str = field(repr=False)
    text: str = field(repr=False)  # normalised; every offset in ``found`` points into it
    found: tuple[Found, ...]

    def value(self, found: Found) -> str:
        return self.text[found.value[0]:found.value[1]]


def _app_kind(app: str) -> str:
    kind = APP_KINDS.get(app.lower())
    return kind if kind is not None else UNNAMED


def _app_before(text: str, start: int) -> str:
    window = text[max(0, start - _APP_WINDOW):start]
    window = _CLAUSE_BREAK.split(window)[-1]
    kinds = {_app_kind(m.group(1)) for m in _APP_BEFORE.finditer(window)}
    return kinds.pop() if len(kinds) == 1 else UNNAMED  # two apps named: the handle could be either


def _find(text: str) -> Iterator[Found]:
    # an address has an "@" or a bracketed "at": without either the pattern cannot match, and trying it at every
    # word of the text was a tenth of ingestion's parsing time
    if "@" in text or "(" in text or "[" in text:
        for match in _EMAIL.finditer(text):
            yield Found("email", match.span(), match.span())
    for match in _LINK_HANDLE.finditer(text):
        yield Found(LINK_KINDS[match.group("app").lower()], match.span(), match.span("handle"))
    for match in _AT_HANDLE.finditer(text):
        yield Found(_app_before(text, match.start()), match.span(), match.span())
    for match in _PHONE.finditer(text):
        yield Found("phone", match.span(), match.span())
    for match in _NAMED_HANDLE.finditer(text):
        yield Found(_app_kind(match.group("app")), match.span("handle"), match.span("handle"))


def scan_contacts(text: str) -> Scan:
    """Normalise ``text`` and find the phone numbers, e-mail addresses and handles in it."""
    normal = normalise_text(text)
    return Scan(text, normal, tuple(_find(normal)))


def _occurrences(needle: str, text: str, lowered: str) -> Iterator[tuple[int, int]]:
    """Where ``needle`` occurs in ``text``, ignoring case. ``lowered`` is text.lower(): when that kept every
    offset, a plain search does it; compiling a pattern per contact value would thrash re's cache at ingestion."""
    if len(lowered) != len(text):
        yield from (m.span() for m in re.finditer(re.escape(needle), text, re.IGNORECASE))
        return
    sought = needle.lower()
    start = lowered.find(sought)
    while start != -1:
        yield start, start + len(sought)
        start = lowered.find(sought, start + len(sought))


def mask_scan(scan: Scan, known_values: Iterable[str] = ()) -> str:
    """The scanned text with what the scan found (and any ``known_values``) replaced by MASK characters."""
    text = scan.text
    chars = list(text)
    spans = [found.span for found in scan.found]
    lowered = text.lower()
    for value in known_values:
        needle = normalise_text(value).strip()
        if len(needle) < 3:  # masking every "a" or "12" would destroy the text and protect nothing
            continue
        spans += _occurrences(needle, text, lowered)
    for start, end in spans:
        chars[start:end] = MASK * (end - start)
    return "".join(chars)


def mask_contacts(text: str, known_values: Iterable[str] = ()) -> str:
    """Replace phone-, e-mail- and handle-like substrings (and any ``known_values``) by MASK characters.

    ``known_values`` are the ad's own contact values, masked wherever they appear verbatim, in case a value
    slips past the patterns. The result has exactly the length of the normalised ``text`` (the same length for
    text without format characters); masking is idempotent.
    """
    return mask_scan(scan_contacts(text), known_values)


URL_MASK = "*"  # a character a URL may carry: a masked URL still parses as one


def mask_url(url: str, known_values: Iterable[str] = ()) -> str:
    """A URL with its contact details masked by URL_MASK ("https://x.example/anna-29991234" keeps its host)."""
    return mask_contacts(url, known_values).replace(MASK, URL_MASK)


def has_contact(value: str, known_values: Iterable[str] = ()) -> bool:
    """Whether masking would change ``value`` beyond normalising it."""
    return mask_contacts(value, known_values) != normalise_text(value)
