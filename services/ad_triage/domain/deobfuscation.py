"""Undo the tricks advertisers use to hide phone numbers and handles from filters.

Advertisers write "five5five", "fem fem", "5.5.5", "2O 3l", keycap emoji or fullwidth digits so that a number
cannot be searched for. The same number must link ads together, so we recover the digits; the fact that the
number was hidden is itself a signal (see REFERENCE.md, "obscured phone number"), so we report that too.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

# English and Danish number words. Longer words come first so the regex prefers "seven" over "seks"/"en".
NUMBER_WORDS = {
    "zero": "0", "one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7",
    "eight": "8", "nine": "9",
    "nul": "0", "en": "1", "et": "1", "to": "2", "tre": "3", "fire": "4", "fem": "5", "seks": "6", "syv": "7",
    "otte": "8", "ni": "9",
}
_WORD_ALTERNATION = "|".join(sorted(NUMBER_WORDS, key=lambda w: (-len(w), w)))
_WORD = re.compile(rf"(?i)plus|{_WORD_ALTERNATION}")
_ONLY_WORDS = re.compile(rf"(?i)(?:plus|{_WORD_ALTERNATION})+")
_LETTER_RUN = re.compile(r"[^\W\d_]+")
_KEYCAP = re.compile("[\ufe0f\u20e3]")  # "5️⃣" is 5 + variation selector + combining enclosing keycap
# Letters that stand in for digits only count when they touch a digit: "2O3" is 203, "Ole" is a name.
_LOOKALIKE = re.compile(r"(?<=\d)[oOlI]|[oOlI](?=\d)")
_LOOKALIKE_DIGIT = {"o": "0", "O": "0", "l": "1", "I": "1"}
_DIGIT_GROUP = re.compile(r"\d+")
_SPACED_OUT_GROUPS = 4  # "5 5 5 5 ..." hides a number from search; "+45 2 999 1234" is ordinary grouping


def normalise_text(value: str) -> str:
    """NFKC (fullwidth, mathematical and circled digits become ASCII, ligatures letters, odd spaces spaces) with
    format characters removed (zero-width joiners and spaces, soft hyphens, direction marks, BOMs), so a disguise
    made of code points cannot hide a number from the patterns that look for one."""
    folded = unicodedata.normalize("NFKC", value)
    if folded.isascii():
        return folded
    return "".join(ch for ch in folded if unicodedata.category(ch) != "Cf")


@dataclass(frozen=True)
class Recovered:
    text: str  # digits and a leading '+' only, or the cleaned handle
    obfuscated: bool


def _standard_digits(value: str) -> tuple[str, bool]:
    """Map every Unicode decimal digit (fullwidth, mathematical bold, ...) to ASCII and drop keycap marks."""
    out, changed = [], False
    for ch in _KEYCAP.sub("", value):
        if not ch.isascii() and unicodedata.decimal(ch, None) is not None:
            out.append(str(unicodedata.decimal(ch)))
            changed = True
        elif not ch.isascii() and unicodedata.digit(ch, None) is not None:  # circled and superscript digits
            out.append(str(unicodedata.digit(ch)))
            changed = True
        else:
            out.append(ch)
    return "".join(out), changed or bool(_KEYCAP.search(value))


def _words_to_digits(value: str) -> tuple[str, bool]:
    """Spell out letter runs made only of number words ("fivefive", "fem"); leave other words ("sende") alone."""
    changed = False

    def swap_run(run: re.Match[str]) -> str:
        nonlocal changed
        if not _ONLY_WORDS.fullmatch(run.group(0)):
            return run.group(0)
        changed = True
        return _WORD.sub(lambda w: "+" if w.group(0).lower() == "plus" else NUMBER_WORDS[w.group(0).lower()],
                         run.group(0))

    return _LETTER_RUN.sub(swap_run, value), changed


def _lookalikes_to_digits(value: str) -> tuple[str, bool]:
    changed = False
    while True:  # repeat so that runs such as "1OO2" resolve from both ends
        new = _LOOKALIKE.sub(lambda m: _LOOKALIKE_DIGIT[m.group(0)], value)
        if new == value:
            return value, changed
        value, changed = new, True


def recover_phone_digits(value: str) -> Recovered:
    """Return the dialable digits in ``value`` (keeping a leading '+') and whether they had been disguised."""
    normal = normalise_text(value)
    text, by_glyph = _standard_digits(normal)
    by_glyph = by_glyph or normal != value
    text, by_word = _words_to_digits(text)
    text, by_letter = _lookalikes_to_digits(text)
    spaced_out = sum(len(group) == 1 for group in _DIGIT_GROUP.findall(text)) >= _SPACED_OUT_GROUPS
    before_digits = re.split(r"\d", text, maxsplit=1)[0]
    plus = "+" if "+" in before_digits else ""  # "tlf: +45 ..." keeps its international prefix
    digits = "".join(ch for ch in text if ch.isdigit())
    return Recovered(plus + digits, by_glyph or by_word or by_letter or spaced_out)


_AT = re.compile(r"\s*[(\[{<]\s*(?:at|snabel-a|snabela)\s*[)\]}>]\s*|\s+(?:at|snabel-a)\s+", re.IGNORECASE)
_DOT = re.compile(r"\s*[(\[{<]\s*(?:dot|punktum|prik)\s*[)\]}>]\s*|\s+(?:dot|punktum)\s+", re.IGNORECASE)


def recover_handle(value: str) -> Recovered:
    """Normalise a handle or e-mail: '(at)'/'[dot]' spelled out, spaces removed, lower case, no leading '@'."""
    text = normalise_text(value).strip()
    spelled = _AT.sub("@", text)
    spelled = _DOT.sub(".", spelled)
    squeezed = re.sub(r"\s+", "", spelled)
    obfuscated = spelled != text or squeezed != spelled
    return Recovered(squeezed.lstrip("@").lower(), obfuscated)
