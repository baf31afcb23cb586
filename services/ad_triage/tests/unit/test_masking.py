import pytest

from services.ad_triage.domain.masking import MASK, mask_contacts

K = "\ufe0f\u20e3"


@pytest.mark.parametrize("text,hidden", [
    ("Ring 29 99 12 34 nu", "29 99 12 34"),
    ("Ring +45 2999 1234", "+45 2999 1234"),
    ("sms to ni ni ni en to tre fire tak", "to ni ni ni en to tre fire"),
    ("call two9nine9one2three4 now", "two9nine9one2three4"),
    ("Tlf 2.9.9.9.1.2.3.4", "2.9.9.9.1.2.3.4"),
    ("Tlf " + "".join(d + K for d in "29991234"), "".join(d + K for d in "29991234")),
    ("Tlf ２９９９１２３４!", "２９９９１２３４"),
    ("Tlf 𝟐𝟗𝟗𝟗𝟏𝟐𝟑𝟒", "𝟐𝟗𝟗𝟗𝟏𝟐𝟑𝟒"),
    ("Tlf 2999 l234.", "2999 l234"),
    ("mail anna (at) example (dot) com", "anna (at) example (dot) com"),
    ("mail anna@example.com", "anna@example.com"),
    ("find me @anna_dk", "@anna_dk"),
    ("t.me/anna_dk for booking", "t.me/anna_dk"),
    ("snap: anna_dk og kys", "anna_dk"),
    ("Telegram - annadk", "annadk"),
])
def test_contact_details_are_masked_in_place(text, hidden):
    masked = mask_contacts(text)
    start = text.index(hidden)
    assert len(masked) == len(text)
    assert masked[start:start + len(hidden)] == MASK * len(hidden)
    assert masked[:start] == text[:start]  # text before the contact is untouched


@pytest.mark.parametrize("text", [
    "Pris 1500 kr for 30 min", "Pris 1500-2500 kr", "Jeg er 22 år og 170 cm", "Open 10-22 every day",
    "Hello Ole, I am new in town", "Jeg har en to timers pause",
])
def test_ordinary_numbers_and_words_stay_visible(text):
    assert mask_contacts(text) == text


def test_known_values_are_masked_even_if_no_pattern_catches_them():
    assert mask_contacts("skriv til AnnaDK her", known_values=["annadk", "x"]) == f"skriv til {MASK * 6} her"


def test_masking_is_idempotent():
    once = mask_contacts("Ring 29 99 12 34 eller snap: anna_dk")
    assert mask_contacts(once) == once


def test_text_is_normalised_before_contacts_are_looked_for():
    zwj = "\u200d".join("29991234")
    assert mask_contacts(f"Ring {zwj} nu") == f"Ring {MASK * 8} nu"
    assert mask_contacts("Anna29991234") == "Anna" + MASK * 8


def test_an_ad_id_carrying_a_contact_becomes_a_pseudonym_and_the_url_is_masked():
    from services.ad_triage.domain.stored import stored_ad_id, stored_url
    pseudonymise = lambda value: "p1:ad-linkage:" + str(abs(hash(value)))  # noqa: E731
    assert stored_ad_id("p", "100000", pseudonymise) == "100000"  # a platform's numbering stays
    assert stored_ad_id("p", "29991234", pseudonymise, ["29991234"]).startswith("m-")  # unless it is the number
    masked_id = stored_ad_id("p", "anna-29991234", pseudonymise)
    assert masked_id.startswith("m-") and "29991234" not in masked_id
    assert "29991234" not in stored_url("https://x.example/anna-29991234", "anna-29991234", masked_id)
    assert stored_url("https://x.example/a/100000", "100000", "100000") == "https://x.example/a/100000"


def test_event_cities_come_from_the_list_only():
    from services.ad_triage.domain.places import known_city
    assert known_city("Kbh") == "københavn" and known_city("ＡＡＲＨＵＳ") == "aarhus"
    assert known_city("Ring 29991234 Anna") is None and known_city("x" * 5000) is None
