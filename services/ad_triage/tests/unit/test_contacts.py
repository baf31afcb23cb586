from pathlib import Path

import pytest

from services.ad_triage.domain.contacts import (
    HandleNotValid, NormalisedContact, PhoneNotValid, UnknownContactKind, normalise_contact, pseudonymise_contacts,
)
from services.ad_triage.domain.records import Contact

from .conftest import make_ad, pseudonymise

CORPUS = Path(__file__).with_name("obfuscated_phones.txt")


def corpus_cases() -> list[tuple[str, str, bool, str]]:
    cases = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            value, expected, obfuscated, description = line.split("\t")
            cases.append((value, expected, obfuscated == "yes", description))
    return cases


def test_corpus_has_at_least_forty_obfuscated_forms():
    assert sum(obfuscated for _, _, obfuscated, _ in corpus_cases()) >= 40


@pytest.mark.parametrize("value,expected,obfuscated,description", corpus_cases(),
                         ids=[c[3] for c in corpus_cases()])
def test_corpus_phone_normalises_to_e164(value, expected, obfuscated, description):
    assert normalise_contact("phone", value) == NormalisedContact("phone", expected, obfuscated)


def test_whatsapp_and_signal_are_phone_numbers():
    assert normalise_contact("whatsapp", "fem fem 99 12 34").value == "+4555991234"
    assert normalise_contact("signal", "+45 29991234").value == "+4529991234"


def test_international_prefix_after_a_label_is_kept():
    assert normalise_contact("phone", "tlf: +40 729 991 234").value == "+40729991234"


def test_number_words_inside_ordinary_words_are_left_alone():
    # "sende" contains "en"; it must not become a digit and break the number
    assert normalise_contact("phone", "sende sms 29991234").value == "+4529991234"


@pytest.mark.parametrize("value,reason", [
    ("ring mig", "no digits found"),
    ("2999123", "not a valid number in its numbering plan"),
    ("12345678", "not a valid number in its numbering plan"),
    ("+", "no digits found"),
])
def test_unusable_phone_raises_specific_error_without_quoting_the_value(value, reason):
    with pytest.raises(PhoneNotValid) as caught:
        normalise_contact("phone", value)
    assert caught.value.reason == reason and caught.value.kind == "phone"
    assert value not in str(caught.value) or value == "+"


@pytest.mark.parametrize("kind,value,expected,obfuscated", [
    ("telegram", "@Anna_DK", "anna_dk", False),
    ("snapchat", " anna dk ", "annadk", True),
    ("telegram", "(at)anna_dk", "anna_dk", True),
    ("email", "Anna (at) Example (dot) com", "anna@example.com", True),
    ("email", "anna[at]example[dot]com", "anna@example.com", True),
    ("email", "anna@example.com", "anna@example.com", False),
    ("instagram", "＠ａｎｎａ", "anna", False),
])
def test_handles_are_normalised(kind, value, expected, obfuscated):
    assert normalise_contact(kind, value) == NormalisedContact(kind, expected, obfuscated)


def test_bad_handles_and_kinds_raise_specific_errors():
    with pytest.raises(HandleNotValid, match="email: an e-mail address needs exactly one '@'"):
        normalise_contact("email", "anna.example.com")
    with pytest.raises(HandleNotValid, match="telegram: empty after normalisation"):
        normalise_contact("telegram", "@")
    with pytest.raises(UnknownContactKind, match="contact kind 'fax' is not one of"):
        normalise_contact("fax", "1234")


def test_pseudonymised_contacts_hold_no_contact_value():
    ad = make_ad(contacts=(Contact("phone", "to ni ni ni en to tre fire"), Contact("telegram", "@Anna_DK")))
    phone, handle = pseudonymise_contacts(ad, pseudonymise)
    assert phone.pseudonym == pseudonymise("phone:+4529991234")
    assert handle.pseudonym == pseudonymise("telegram:anna_dk")
    assert (phone.obfuscated, handle.obfuscated) == (True, False)
    assert (phone.calling_code, phone.region, phone.area) == (45, "DK", None)
    dumped = repr((phone, handle))
    for secret in ("29991234", "2999", "anna_dk", "Anna"):
        assert secret not in dumped


def test_phone_whatsapp_and_signal_share_one_pseudonym():
    ad = make_ad(contacts=(Contact("phone", "29991234"), Contact("whatsapp", "+45 2999 1234"),
                           Contact("signal", "to ni ni ni en to tre fire")))
    pseudonyms = pseudonymise_contacts(ad, pseudonymise)
    assert len(pseudonyms) == 1 and pseudonyms[0].kind == "phone"  # duplicates collapse, first kept


def test_foreign_number_reports_its_region():
    ad = make_ad(contacts=(Contact("phone", "+40 729 991 234"),))
    [pseudo] = pseudonymise_contacts(ad, pseudonymise)
    assert (pseudo.calling_code, pseudo.region) == (40, "RO")


def test_invalid_number_still_links_by_its_digits_and_is_marked_invalid():
    ad = make_ad(contacts=(Contact("phone", "2999 123"), Contact("phone", "ring mig"), Contact("email", "nope")))
    [pseudo] = pseudonymise_contacts(ad, pseudonymise)
    assert pseudo.valid is False and pseudo.pseudonym == pseudonymise("phone:2999123")
    assert pseudo.region is None
