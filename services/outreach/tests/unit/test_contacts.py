"""Follow-up codes: random, well-formed, forgiving to read, strict to accept; consent and its withdrawal."""
import re
from datetime import date

import pytest
from hypothesis import given, strategies as st

from services.outreach.domain import contacts as c
from services.outreach.domain.errors import ConsentWithdrawn, InvalidConsent, InvalidFollowUpCode, UnknownCode

SHAPE = re.compile(r"^FU-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")


def test_ten_thousand_codes_are_unique_and_well_formed():
    codes = [c.new_follow_up_code() for _ in range(10_000)]
    assert len(set(codes)) == 10_000
    assert all(SHAPE.match(code) for code in codes)
    # 60 bits spread over all 12 symbols: every symbol of the alphabet turns up in every position
    for position in range(12):
        assert len({code.replace("-", "")[2 + position] for code in codes}) == 32


@given(st.integers(0, 2 ** 60 - 1))
def test_any_60_bit_value_round_trips_through_every_way_of_writing_it(bits):
    digits = "".join(c.ALPHABET[(bits >> s) & 31] for s in range(55, -1, -5))
    code = f"FU-{digits[:4]}-{digits[4:8]}-{digits[8:]}"
    assert c.parse_follow_up_code(code) == code
    assert c.parse_follow_up_code(code.lower()) == code
    assert c.parse_follow_up_code(" ".join(digits)) == code
    assert c.parse_follow_up_code(code.replace("-", "")) == code
    assert c.parse_follow_up_code(code.replace("1", "l").replace("0", "o")) == code


def test_generated_codes_round_trip():
    for _ in range(200):
        code = c.new_follow_up_code()
        assert c.parse_follow_up_code(code) == code == c.parse_follow_up_code(f"  {code.lower()} ")


def test_crockford_reading_of_look_alike_letters():
    assert c.parse_follow_up_code("fu-oooo-iiii-llll") == "FU-0000-1111-1111"
    assert c.parse_follow_up_code("FU 0A1B 2C3D 4E5F") == "FU-0A1B-2C3D-4E5F"


@pytest.mark.parametrize("bad", ["", "FU-0000-0000-000", "FU-0000-0000-00000", "FU-UUUU-0000-0000",
                                 "FX-0000-0000-0000", "FU-0000-0000-000!", "FU_0000_0000_0000", None, 123,
                                 "FU-" + "0" * 40, "FU-ÅÅÅÅ-0000-0000"])
def test_anything_else_is_refused_without_echoing_it(bad):
    with pytest.raises(InvalidFollowUpCode) as caught:
        c.parse_follow_up_code(bad)
    assert caught.value.code == "invalid_follow_up_code" and caught.value.field == "follow_up_code"
    assert str(bad) not in caught.value.message or not bad


def test_the_store_keeps_a_keyed_digest_of_the_canonical_code():
    key = b"k" * 32
    code = c.new_follow_up_code()
    digest = c.code_digest(code, key)
    assert digest == c.code_digest(code.lower().replace("-", " "), key) and len(digest) == 64
    assert code not in digest and digest != c.code_digest(code, b"other key" * 4)


def test_ids_are_random_and_prefixed():
    assert re.match(r"^fu-[0-9a-f]{16}$", c.new_follow_up_id())
    assert re.match(r"^con-[0-9a-f]{16}$", c.new_contact_id())


def test_consent_scope_must_include_follow_up_contact():
    assert c.consent_scope(["follow_up_contact", "health_services"]) == ("follow_up_contact", "health_services")
    assert c.consent_scope({"scope": ["follow_up_contact"]}) == ("follow_up_contact",)
    with pytest.raises(InvalidConsent) as caught:
        c.consent_scope(["health_services"])
    assert caught.value.code == "invalid_consent" and caught.value.field == "follow_up_consent"
    with pytest.raises(UnknownCode):
        c.consent_scope(["follow_up_contact", "marketing"])
    with pytest.raises(InvalidConsent):
        c.consent_scope({"scope": ["follow_up_contact"], "name": "Anna"})


def test_a_withdrawn_consent_links_nothing_more_and_withdrawing_twice_keeps_the_first_day():
    consent = c.give_consent("fu-" + "1" * 16, ["follow_up_contact"], "cmm", date(2017, 1, 1))
    consent.check_usable()
    gone = consent.withdraw(date(2017, 2, 1))
    assert gone.withdraw(date(2017, 3, 1)).withdrawn_on == date(2017, 2, 1) and not gone.active
    with pytest.raises(ConsentWithdrawn) as caught:
        gone.check_usable()
    assert caught.value.code == "consent_withdrawn" and "fu-" not in caught.value.message
