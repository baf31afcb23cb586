"""Contacts written in an ad's text link it like the same contacts in its contacts field (issue 10, item 1)."""
import pytest

from services.ad_triage.domain.contacts import PseudoContact, contacts_in_text, pseudonymise_contacts
from services.ad_triage.domain.features import compute_features
from services.ad_triage.domain.masking import MASK, mask_contacts, mask_scan, scan_contacts
from services.ad_triage.domain.records import Contact
from services.ad_triage.domain.stored import to_stored

from .conftest import make_ad, pseudonymise
from .test_contacts import corpus_cases

K = "\ufe0f\u20e3"
PHONE = pseudonymise("phone:+4529991234")


def stored_contacts(text: str = "Hej", contacts: tuple[Contact, ...] = (), **fields) -> tuple[PseudoContact, ...]:
    return to_stored(make_ad(text=text, contacts=contacts, **fields), pseudonymise).contacts


@pytest.mark.parametrize("shown,obfuscated", [
    ("29991234", False),
    ("29 99 12 34", False),
    ("+45 29 99 12 34", False),
    ("0045 2999 1234", False),
    ("2 9 9 9 1 2 3 4", True),
    ("2.9.9.9.1.2.3.4", True),
    ("to ni ni ni en to tre fire", True),
    ("To Ni Ni Ni Et To Tre Fire", True),
    ("plus fire fem to ni ni ni en to tre fire", True),
    ("two nine nine nine one two three four", True),
    ("two9nine9one2three4", True),
    ("２９９９１２３４", True),
    ("+45 ２９９９ １２３４", True),
    ("".join(d + K for d in "29991234"), True),
    ("2999 l234", True),
    ("29\u200b99\u200b12\u200b34", True),
])
def test_a_number_only_in_the_text_gets_the_pseudonym_of_the_same_number_in_the_field(shown, obfuscated):
    [field] = stored_contacts(contacts=(Contact("phone", "+45 29 99 12 34"),))
    [in_text] = stored_contacts(text=f"Sød pige i byen. Ring {shown} i aften.")
    assert field.pseudonym == in_text.pseudonym == PHONE
    assert (in_text.source, field.source) == ("text", "field")
    assert in_text.obfuscated is obfuscated
    assert (in_text.kind, in_text.valid, in_text.calling_code, in_text.region) == ("phone", True, 45, "DK")


@pytest.mark.parametrize("context", ["Ring {} i aften", "Call me on {}!", "Anna{}", "tlf:{}."])
@pytest.mark.parametrize("value,expected,obfuscated,description", corpus_cases(), ids=[c[3] for c in corpus_cases()])
def test_every_disguise_of_the_corpus_reads_the_same_in_text_as_in_the_field(value, expected, obfuscated,
                                                                            description, context):
    contacts = contacts_in_text([context.format(value)], pseudonymise)
    assert [(c.pseudonym, c.obfuscated) for c in contacts] == [(pseudonymise(f"phone:{expected}"), obfuscated)]


@pytest.mark.parametrize("sentence", ["Phone 29991234.", "Call or text 29991234", "Text to 29991234 now",
                                      "Ring 29991234 to gange", "Anna29991234", "Tlf:29991234!"])
def test_words_and_letters_beside_the_number_are_not_read_into_it(sentence):
    [contact] = contacts_in_text([sentence], pseudonymise)
    assert contact.pseudonym == PHONE and not contact.obfuscated


def test_a_foreign_number_in_the_text_keeps_its_country_for_the_location_signal():
    ad = to_stored(make_ad(text="Beautiful Romanian girl. Call +40 729 991 234", location="Odense"), pseudonymise)
    [contact] = ad.contacts
    assert (contact.region, contact.calling_code, contact.source) == ("RO", 40, "text")
    assert contact.pseudonym == pseudonymise("phone:+40729991234")
    assert compute_features(ad)["area_code_mismatch"] == 1.0


def test_a_disguised_number_in_the_text_is_an_obscured_phone():
    ad = to_stored(make_ad(text="Ring to ni ni ni en to tre fire"), pseudonymise)
    assert compute_features(ad)["obfuscated_phone"] == 1.0
    plain = to_stored(make_ad(text="Ring 29 99 12 34"), pseudonymise)
    assert compute_features(plain)["obfuscated_phone"] == 0.0


def test_an_email_written_out_in_the_text_equals_the_structured_address():
    [field] = stored_contacts(contacts=(Contact("email", "anna@mail.dk"),))
    [in_text] = stored_contacts(text="Skriv til anna (at) mail (dot) dk")
    assert in_text.pseudonym == field.pseudonym == pseudonymise("email:anna@mail.dk")
    assert (in_text.kind, in_text.obfuscated, in_text.source) == ("email", True, "text")


@pytest.mark.parametrize("text,kind,field_value", [
    ("snap: anna_dk og kys", "snapchat", "@anna_dk"),
    ("Snapchat - Anna_DK.", "snapchat", "anna_dk"),
    ("Telegram - anna_dk", "telegram", "@anna_dk"),
    ("book via t.me/anna_dk", "telegram", "anna_dk"),
    ("find me on telegram @Anna_DK", "telegram", "@anna_dk"),
    ("https://www.instagram.com/anna_dk?x=1", "instagram", "@anna_dk"),
    ("snapchat.com/add/anna_dk", "snapchat", "anna_dk"),
    ("kik: anna_dk", "kik", "anna_dk"),
])
def test_a_handle_in_the_text_takes_the_kind_of_the_app_it_names(text, kind, field_value):
    [field] = stored_contacts(contacts=(Contact(kind, field_value),))
    [in_text] = stored_contacts(text=text)
    assert (in_text.kind, in_text.pseudonym, in_text.source) == (kind, field.pseudonym, "text")


@pytest.mark.parametrize("link", ["wa.me/4529991234", "https://wa.me/4529991234?text=hej", "whatsapp: 29991234"])
def test_a_whatsapp_link_or_id_is_the_phone_number(link):
    [contact] = contacts_in_text([link], pseudonymise)
    assert (contact.kind, contact.pseudonym, contact.region) == ("whatsapp", PHONE, "DK")


def test_a_foreign_whatsapp_link_reads_its_number_internationally():
    [contact] = contacts_in_text(["wa.me/40729991234"], pseudonymise)
    assert contact.pseudonym == pseudonymise("phone:+40729991234")


@pytest.mark.parametrize("text", [
    "@anna_dk",  # no app named: there is no pseudonym space that is surely right
    "telegram or snap @anna_dk",  # two apps named
    "wickr: annadk",  # an app without a contact kind
    "se instagram.com/p/abc123",  # a post, not a person
])
def test_handles_without_a_known_app_are_masked_but_not_contacts(text):
    assert contacts_in_text([text], pseudonymise) == ()
    assert MASK in mask_contacts(text)


@pytest.mark.parametrize("text", [
    "Pris 1500 kr for 30 min", "Pris 1500-2500 kr", "Pris 1500-2500,-", "Pris 3.500-4.500",
    "Jeg er 22 år og 170 cm", "I am 24 years old, 165 cm and 55 kg", "Open 10-22 every day", "Åben 10.00-22.00",
    "Åben 21.30-23.30", "Kl. 20:30 - 23:30", "Ny i byen fra 24.05.2016", "Annonce 100000", "Jeg har en to timers pause",
    "Hello Ole, I am new in town", "Ring 2999 123",  # seven digits: no valid number, and text says nothing more
])
def test_prices_ages_times_dates_and_numbering_are_not_contacts(text):
    assert contacts_in_text([text], pseudonymise) == ()


def test_a_number_in_both_field_and_text_is_one_contact_from_the_field():
    contacts = stored_contacts(text="Ring to ni ni ni en to tre fire eller 29 99 12 34",
                               contacts=(Contact("whatsapp", "29991234"),))
    assert [(c.kind, c.pseudonym, c.source, c.obfuscated) for c in contacts] == [("whatsapp", PHONE, "field", False)]


def test_field_contacts_come_first_then_new_text_contacts_in_text_order():
    contacts = stored_contacts(
        title="Anna - snap: anna_dk", text="Ring +40 729 991 234 eller 29991234, mail anna (at) mail (dot) dk",
        contacts=(Contact("phone", "29991234"),))
    assert [(c.kind, c.source) for c in contacts] == [
        ("phone", "field"), ("snapchat", "text"), ("phone", "text"), ("email", "text")]
    assert len({c.pseudonym for c in contacts}) == 4


def test_digits_inside_an_email_address_are_that_address_not_another_contact():
    [contact] = contacts_in_text(["mail anna29991234@mail.dk"], pseudonymise)
    assert contact.kind == "email"


def test_the_contacts_field_and_text_contacts_link_two_ads():
    field_ad = to_stored(make_ad(ad_id="1", contacts=(Contact("phone", "+4529991234"),)), pseudonymise)
    text_ad = to_stored(make_ad(ad_id="2", text="sms ２９ ９９ １２ ３４"), pseudonymise)
    assert {c.pseudonym for c in field_ad.contacts} & {c.pseudonym for c in text_ad.contacts} == {PHONE}


def test_pseudonymise_contacts_reads_the_ads_texts_when_given_no_scans():
    ad = make_ad(text="Ring 29 99 12 34", location="Odense snap: anna_dk")
    assert pseudonymise_contacts(ad, pseudonymise) == to_stored(ad, pseudonymise).contacts
    assert [c.kind for c in pseudonymise_contacts(ad, pseudonymise)] == ["phone", "snapchat"]


def test_contacts_in_text_collapses_duplicates_across_texts():
    contacts = contacts_in_text(["Ring 29991234", "Tlf to ni ni ni en to tre fire", "snap: anna_dk"], pseudonymise)
    assert [(c.kind, c.obfuscated) for c in contacts] == [("phone", False), ("snapchat", False)]


def test_the_scan_that_masks_is_the_scan_that_finds():
    text = "Ring 2 9 9 9 1 2 3 4 eller snap: anna_dk, mail anna (at) mail (dot) dk"
    scan = scan_contacts(text)
    assert mask_scan(scan) == mask_contacts(text)
    assert {found.kind for found in scan.found} == {"phone", "snapchat", "email"}
    masked = mask_scan(scan)
    for found in scan.found:
        assert set(masked[found.span[0]:found.span[1]]) == {MASK}


def test_nothing_of_a_contact_found_in_text_reaches_the_stored_ad():
    ad = to_stored(make_ad(title="Anna29991234", text="Ring to ni ni ni en to tre fire, snap: anna_dk, "
                           "mail anna (at) mail (dot) dk, wa.me/40729991234"), pseudonymise)
    assert {c.source for c in ad.contacts} == {"text"} and len(ad.contacts) == 4
    dumped = repr(ad) + repr(ad.contacts) + repr(scan_contacts("Ring 29991234 snap: anna_dk"))
    for secret in ("29991234", "2999", "to ni ni", "anna_dk", "anna@mail", "mail (dot)", "729991234"):
        assert secret not in dumped


def test_source_defaults_to_field_and_the_first_seven_fields_keep_their_order():
    contact = PseudoContact("phone", "p", True, True, 45, "DK", None)
    assert (contact.calling_code, contact.region, contact.area, contact.source) == (45, "DK", None, "field")
