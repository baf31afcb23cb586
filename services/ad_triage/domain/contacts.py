"""Contact normalisation and pseudonymisation.

Normalisation makes one number or handle compare equal however it was written; pseudonymisation replaces it with
a keyed HMAC chosen by the caller (the key lives outside this service's data, see REFERENCE.md privacy rules), so
ads can be linked by contact without any record holding the contact itself.

Scraped ads mostly give the number only in their text, so contacts written there (found by the scan that masks
them, masking.scan_contacts) are pseudonymised the same way: "ring to ni ni ni en to tre fire" in one ad's text
and "+45 29 99 12 34" in another's contacts field give one pseudonym and link the two.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace

import phonenumbers

from .deobfuscation import normalise_text, recover_handle, recover_phone_digits
from .masking import EDGE_UNIT_HEAD, EDGE_UNIT_TAIL, Found, Scan, scan_contacts
from .records import CONTACT_KINDS, Ad

DEFAULT_REGION = "DK"
PHONE_KINDS = frozenset({"phone", "whatsapp", "signal"})  # these apps address people by phone number


class ContactRejected(ValueError):
    """A contact value could not be normalised. Messages never quote the value: they may reach logs."""


class UnknownContactKind(ContactRejected):
    def __init__(self, kind: str):
        super().__init__(f"contact kind {kind!r} is not one of: {', '.join(sorted(CONTACT_KINDS))}")
        self.kind = kind


class PhoneNotValid(ContactRejected):
    def __init__(self, kind: str, reason: str, digit_count: int):
        super().__init__(f"{kind}: {reason} ({digit_count} digits after de-obfuscation, default region "
                         f"{DEFAULT_REGION})")
        self.kind, self.reason, self.digit_count = kind, reason, digit_count


class HandleNotValid(ContactRejected):
    def __init__(self, kind: str, reason: str):
        super().__init__(f"{kind}: {reason}")
        self.kind, self.reason = kind, reason


@dataclass(frozen=True)
class NormalisedContact:
    kind: str
    value: str  # E.164 for phone kinds, cleaned handle otherwise: still personal data, never store it
    obfuscated: bool


@dataclass(frozen=True)
class PseudoContact:
    """What may be stored about a contact: the pseudonym and coarse, non-identifying facts only."""

    kind: str
    pseudonym: str
    obfuscated: bool
    valid: bool  # False when a phone could not be validated and the pseudonym is of its bare digits
    calling_code: int | None = None  # e.g. 45; a country is not an identifier
    region: str | None = None  # ISO 3166 region of the number ("DK", "RO"), for the location-mismatch signal
    # an area within the country: no longer derived (phonenumbers' geocoder data costs the process 100 MiB, no
    # signal reads it, and Denmark's plan has no areas); kept in the shape the stored ads and the contract share
    area: str | None = None
    source: str = "field"  # "field": the ad's contacts field; "text": found in its title, text or location


def _parse_phone(kind: str, value: str) -> tuple[phonenumbers.PhoneNumber, bool]:
    recovered = recover_phone_digits(value)
    digits = recovered.text.lstrip("+")
    if not digits:
        raise PhoneNotValid(kind, "no digits found", 0)
    try:
        number = phonenumbers.parse(recovered.text, DEFAULT_REGION)
    except phonenumbers.NumberParseException as err:
        raise PhoneNotValid(kind, f"not parseable as a phone number ({err.error_type})", len(digits)) from None
    if not phonenumbers.is_valid_number(number):
        raise PhoneNotValid(kind, "not a valid number in its numbering plan", len(digits))
    return number, recovered.obfuscated


def _normalised(kind: str, value: str) -> tuple[NormalisedContact, phonenumbers.PhoneNumber | None]:
    """The normalised contact and, for phone kinds, the parsed number (parsing is the costly part: done once)."""
    if kind not in CONTACT_KINDS:
        raise UnknownContactKind(kind)
    if kind in PHONE_KINDS:
        number, obfuscated = _parse_phone(kind, value)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return NormalisedContact(kind, e164, obfuscated), number
    recovered = recover_handle(value)
    if not recovered.text:
        raise HandleNotValid(kind, "empty after normalisation")
    if kind == "email" and recovered.text.count("@") != 1:
        raise HandleNotValid(kind, "an e-mail address needs exactly one '@' after normalisation")
    return NormalisedContact(kind, recovered.text, recovered.obfuscated), None


def normalise_contact(kind: str, value: str) -> NormalisedContact:
    """Normalise one contact; raises UnknownContactKind, PhoneNotValid or HandleNotValid."""
    return _normalised(kind, value)[0]


def _linkage_kind(kind: str) -> str:
    # WhatsApp and Signal reach the same person as the phone number, so all three share one pseudonym space.
    return "phone" if kind in PHONE_KINDS else kind


def _pseudo_of(normal: NormalisedContact, number: phonenumbers.PhoneNumber | None,
               pseudonymise: Callable[[str], str]) -> PseudoContact:
    pseudonym = pseudonymise(f"{_linkage_kind(normal.kind)}:{normal.value}")
    if number is None:
        return PseudoContact(normal.kind, pseudonym, normal.obfuscated, valid=True)
    return PseudoContact(normal.kind, pseudonym, normal.obfuscated, valid=True, calling_code=number.country_code,
                         region=phonenumbers.region_code_for_number(number))


def _pseudo(kind: str, value: str, pseudonymise: Callable[[str], str]) -> PseudoContact:
    try:
        return _pseudo_of(*_normalised(kind, value), pseudonymise)
    except PhoneNotValid as err:
        if err.digit_count == 0:
            raise
        # An invalid number still links the ads that share it, so keep a pseudonym of its bare digits.
        recovered = recover_phone_digits(value)
        return PseudoContact(kind, pseudonymise(f"{_linkage_kind(kind)}:{recovered.text}"), recovered.obfuscated,
                             valid=False)


def _field_contacts(ad: Ad, pseudonymise: Callable[[str], str]) -> dict[tuple[str, str], PseudoContact]:
    """The contacts field's contacts by (linkage kind, normalised text of the value as given)."""
    found = {}
    for contact in ad.contacts:
        try:
            pseudo = _pseudo(contact.kind, contact.value, pseudonymise)
        except ContactRejected:
            continue
        found.setdefault((_linkage_kind(contact.kind), normalise_text(contact.value).strip()), pseudo)
    return found


# Shapes a run of digits takes when it is no phone number: a date (24.05.2016), a time range (21.30-23.30), a
# price range with thousands separators (3.500-4.500). Masking hides them all the same (it errs towards hiding);
# linking must not, or every ad naming the same date would share a "contact".
_NOT_A_PHONE = re.compile(
    r"(?:0?[1-9]|[12]\d|3[01])(?P<s>[./-])(?:0?[1-9]|1[0-2])(?P=s)(?:19|20)\d\d"
    r"|(?:[01]?\d|2[0-4])[.:][0-5]\d\s*[-\u2013]\s*(?:[01]?\d|2[0-4])[.:][0-5]\d"
    r"|\d{1,3}(?:\.\d{3})+\s*[-\u2013]\s*\d{1,3}(?:\.\d{3})+"
)
_MAX_EDGE_UNITS = 2


def _trimmed(value: str, pattern: re.Pattern[str], at_head: bool) -> Iterator[str]:
    for _ in range(_MAX_EDGE_UNITS):
        match = pattern.match(value) if at_head else pattern.search(value)
        if not match:
            return
        value = value[match.end():] if at_head else value[:match.start()]
        yield value


def _phone_candidates(value: str) -> Iterator[str]:
    """The span, then the span without the number words or lookalikes the run picked up at its ends ("Phone
    2999..." is read as "one 2999...", "ring 2999... to gange" as "2999... to"): fewest units dropped first."""
    yield value
    heads = [value, *_trimmed(value, EDGE_UNIT_HEAD, at_head=True)]
    for dropped in range(1, 2 * _MAX_EDGE_UNITS + 1):
        for head_count, head in enumerate(heads):
            tails = [head, *_trimmed(head, EDGE_UNIT_TAIL, at_head=False)]
            if 0 <= dropped - head_count < len(tails):
                yield tails[dropped - head_count]


def _text_phone(found: Found, value: str, pseudonymise: Callable[[str], str]) -> PseudoContact | None:
    """A phone-like span as the contact a structured phone of the same number gives, or None. Unlike the
    contacts field, text says nothing about whether a run of digits is a phone, so only a valid number counts."""
    candidates = _phone_candidates(value)
    if found.kind != "phone" and value.isdigit():
        # WhatsApp links and app ids write the number internationally without '+' ("wa.me/40729991234")
        candidates = (*candidates, "+" + value)
    for candidate in candidates:
        if _NOT_A_PHONE.fullmatch(candidate.strip()):
            return None
        try:
            return _pseudo_of(*_normalised(found.kind, candidate), pseudonymise)
        except ContactRejected:
            continue
    return None


# Paths of the link hosts that are pages, not people ("instagram.com/p/...", "t.me/joinchat/...").
_NOT_A_HANDLE = frozenset({"p", "reel", "reels", "stories", "explore", "tv", "s", "c", "joinchat", "add", "share"})


def _text_handle(found: Found, value: str, pseudonymise: Callable[[str], str]) -> PseudoContact | None:
    value = value.rstrip(".-")  # a sentence's full stop after "snap: anna_dk." is no part of the handle
    if value.lstrip("@").lower() in _NOT_A_HANDLE:
        return None
    try:
        return _pseudo(found.kind, value, pseudonymise)
    except ContactRejected:
        return None


def _glyph_disguised(found: Found, scan: Scan) -> bool:
    """Whether normalisation changed how a phone number was written (fullwidth digits, invisible characters), as
    it counts for a structured phone: the scan reads normalised text, so only the original can tell."""
    return scan.original != scan.text and scan.value(found) not in scan.original


def _text_contact(found: Found, scan: Scan, pseudonymise: Callable[[str], str]) -> PseudoContact | None:
    if found.kind not in CONTACT_KINDS:
        return None  # a bare @handle or an app without a contact kind: there is no pseudonym space to put it in
    value = scan.value(found)
    if found.kind not in PHONE_KINDS:
        pseudo = _text_handle(found, value, pseudonymise)
        return None if pseudo is None else replace(pseudo, source="text")
    if (pseudo := _text_phone(found, value, pseudonymise)) is None:
        return None
    return replace(pseudo, obfuscated=pseudo.obfuscated or _glyph_disguised(found, scan), source="text")


def _inside(inner: Found, outer: Found) -> bool:
    return inner is not outer and outer.span[0] <= inner.span[0] and inner.span[1] <= outer.span[1]


def _contact_spans(scan: Scan) -> Iterator[Found]:
    """What the scan found, less what lies inside another find: the digits of "anna29991234@mail.dk" or
    "wa.me/4529991234" are that e-mail address or link, not a second contact."""
    for found in sorted(scan.found, key=lambda f: f.span):
        if not any(_inside(found, other) and other.kind != "phone" for other in scan.found):
            yield found


def contacts_in_scans(scans: Iterable[Scan], pseudonymise: Callable[[str], str],
                      skip: Callable[[str, str], bool] = lambda kind, value: False) -> Iterator[PseudoContact]:
    """Text contacts from scans made by masking.scan_contacts, in text order; ``skip(kind, value)`` passes over
    a value the caller already has (its pseudonym would be a duplicate), saving its normalisation."""
    for scan in scans:
        for found in _contact_spans(scan):
            if skip(found.kind, scan.value(found)):
                continue
            if (pseudo := _text_contact(found, scan, pseudonymise)) is not None:
                yield pseudo


def contacts_in_text(texts: Iterable[str], pseudonymise: Callable[[str], str]) -> tuple[PseudoContact, ...]:
    """The phone numbers, e-mail addresses and app handles written in ``texts``, pseudonymised exactly as the
    same contact in an ad's contacts field is (so the two link), with source "text", duplicates collapsed."""
    return _first_per_pseudonym(contacts_in_scans(map(scan_contacts, texts), pseudonymise))


def _first_per_pseudonym(contacts: Iterable[PseudoContact]) -> tuple[PseudoContact, ...]:
    seen: dict[str, PseudoContact] = {}
    for pseudo in contacts:
        seen.setdefault(pseudo.pseudonym, pseudo)
    return tuple(seen.values())


def _ad_scans(ad: Ad) -> tuple[Scan, ...]:
    # The URL is left out: its digits are mostly the platform's ad numbering, and in a dense numbering plan
    # (any eight digits from 2 to 9 are Danish) that would link unrelated ads. It is masked all the same.
    return tuple(scan_contacts(text) for text in (ad.title, ad.text, ad.location))


def pseudonymise_contacts(ad: Ad, pseudonymise: Callable[[str], str],
                          scans: Iterable[Scan] | None = None) -> tuple[PseudoContact, ...]:
    """Replace each contact of ``ad`` by a PseudoContact; the caller's keyed HMAC gets f"{kind}:{normalised}".

    For whatsapp and signal the kind in the HMAC input is "phone", so one number links across the three apps.

    The contacts field comes first (source "field"), then contacts written in the ad's title, text and location
    (source "text", see contacts_in_text); ``scans`` are those texts' masking scans when the caller has them.
    Contacts that cannot be normalised at all (an empty handle) are dropped: there is nothing to link on.
    Duplicates (the same number given twice, or in the field and the text) collapse to one entry, first kept.
    """
    in_field = _field_contacts(ad, pseudonymise)
    # A text span spelled exactly like a field value is that contact again: skip normalising it a second time.
    in_text = contacts_in_scans(_ad_scans(ad) if scans is None else scans, pseudonymise,
                                skip=lambda kind, value: (_linkage_kind(kind), value) in in_field)
    return _first_per_pseudonym((*in_field.values(), *in_text))
