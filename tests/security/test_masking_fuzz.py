"""No phone number survives masking, whatever Unicode disguise it wears: after masking, no run of six or more of
its digits can be read back out of the text (by NFKC, dropping invisible characters and separators, reading number
words and lookalike letters as digits)."""
from __future__ import annotations

import re
import unicodedata

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.ad_triage.domain.deobfuscation import NUMBER_WORDS
from services.ad_triage.domain.masking import MASK, MIN_PHONE_DIGITS, mask_contacts

WORDS = {d: [w for w, v in NUMBER_WORDS.items() if v == d] for d in "0123456789"}
ALPHABETS = [  # each maps an ASCII digit to a disguise of it
    lambda d: d,
    lambda d: chr(0xFF10 + int(d)),  # fullwidth
    *[lambda d, base=base: chr(base + int(d)) for base in (0x1D7CE, 0x1D7D8, 0x1D7E2, 0x1D7EC, 0x1D7F6)],  # math
    lambda d: chr(0x0660 + int(d)),  # Arabic-Indic
    lambda d: chr(0x06F0 + int(d)),  # extended Arabic-Indic
    lambda d: chr(0x0966 + int(d)),  # Devanagari
    lambda d: d + "\ufe0f\u20e3",  # keycap
    lambda d: "\u24ea" if d == "0" else chr(0x2460 + int(d) - 1),  # circled
    lambda d: chr(0x2776 + int(d) - 1) if d != "0" else "⓿",  # dingbat negative circled
    lambda d: {"0": "O", "1": "l"}.get(d, d),  # lookalike letters
    lambda d: "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079"[int(d)],  # superscript
]
INVISIBLE = ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u200e", "\u200f", "\u2061"]
SEPARATORS = [" ", "  ", ".", "-", " - ", "/", "_", "\u00a0", "\u2009", "\u202f", "\u3000", "(", ")", "*", ",",
              "\u2013", "\u2011", "·", "•", " . ", "\n"]
MIN_RUN = MIN_PHONE_DIGITS

phones = st.one_of(
    st.from_regex(r"\A[2-9][0-9]{7}\Z"),  # Danish national numbers
    st.from_regex(r"\A(\+|00)45[2-9][0-9]{7}\Z"),
    st.from_regex(r"\A(\+|00)40 ?7[0-9]{8}\Z"),  # Romanian mobiles
)


@st.composite
def disguised(draw) -> tuple[str, str]:
    """(the digits of a phone number, the number as an advertiser might disguise it)."""
    phone = draw(phones)
    prefix = ""
    if phone.startswith("+"):
        prefix, phone = draw(st.sampled_from(["+", "\uff0b", "plus ", "+ "])), phone[1:]
    digits = phone.replace(" ", "")
    out = [prefix]
    for i, d in enumerate(digits):
        kind = draw(st.integers(0, 3))
        if kind == 0 and WORDS[d]:
            word = draw(st.sampled_from(WORDS[d]))
            out.append(draw(st.sampled_from([word, word.upper(), word.capitalize()])))
        else:
            out.append(draw(st.sampled_from(ALPHABETS))(d))
        if i < len(digits) - 1:
            between = draw(st.lists(st.sampled_from(INVISIBLE), max_size=2))
            if draw(st.booleans()):
                between.insert(draw(st.integers(0, len(between))), draw(st.sampled_from(SEPARATORS)))
            out.append("".join(between))
    return digits, "".join(out)


def readable_digits(text: str) -> str:
    """Every digit a reader (or a scraper) could recover from ``text``, in order, separators dropped."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    words = "|".join(sorted(NUMBER_WORDS, key=len, reverse=True))
    text = re.sub(words, lambda m: NUMBER_WORDS[m.group(0).lower()], text, flags=re.IGNORECASE)
    out = []
    for ch in text:
        if unicodedata.digit(ch, None) is not None:
            out.append(str(unicodedata.digit(ch)))
        elif ch in "oO":
            out.append("0")
        elif ch in "lI":
            out.append("1")
        elif ch == MASK or ch.isalpha():
            out.append("|")  # a mask or a word breaks a run
    return "".join(out)


def surviving_run(digits: str, masked: str) -> str | None:
    readable = readable_digits(masked)
    for start in range(len(digits) - MIN_RUN + 1):
        run = digits[start:start + MIN_RUN]
        if run in readable:
            return run
    return None


CONTEXTS = ["{}", "Ring {} nu", "tlf:{}", "Call me on {}!", "Sweet girl, new in town. SMS {} (only sms)",
            "Anna{}", "{}Anna", "ring mig på ({}) i aften"]


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(disguised(), st.sampled_from(CONTEXTS))
def test_no_run_of_six_digits_survives_any_disguise(number, context):
    digits, shown = number
    masked = mask_contacts(context.format(shown))
    assert surviving_run(digits, masked) is None, (shown, masked)


@settings(max_examples=300, deadline=None)
@given(disguised())
def test_masking_is_idempotent_on_disguised_text(number):
    once = mask_contacts(f"Ring {number[1]} nu")
    assert mask_contacts(once) == once


@settings(max_examples=300, deadline=None)
@given(disguised())
def test_a_number_in_the_url_or_ad_id_does_not_survive(number):
    """An ad id carrying a number becomes a pseudonym; the ad's own number is masked wherever the URL shows it."""
    from services.ad_triage.domain.stored import stored_ad_id, stored_url
    digits, shown = number
    ad_id = f"anna-{shown}"
    kept = stored_ad_id("p.example", ad_id, lambda value: "p1:ad-linkage:" + "0" * 32)
    assert kept != ad_id
    own = [shown, digits]  # the ad's own contact, as to_stored passes it (also as recovered digits)
    for url in (f"https://dkescort.example/anna-{digits}", f"https://dkescort.example/{ad_id}?tel={shown}"):
        assert surviving_run(digits, stored_url(url, ad_id, kept, own).replace("*", MASK)) is None
