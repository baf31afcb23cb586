"""Contact normalisation and pseudonymisation.

Normalisation makes one number or handle compare equal however it was written; pseudonymisation replaces it with
a keyed HMAC chosen by the caller (the key lives outside this service's data, see REFERENCE.md privacy rules), so
ads can be linked by contact without any record holding the contact itself.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import phonenumbers
from phonenumbers import geocoder

from .deobfuscation import recover_handle, recover_phone_digits
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
    area: str | None = None  # geocoder's area description where the plan has areas (Denmark's has none)


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


def normalise_contact(kind: str, value: str) -> NormalisedContact:
    """Normalise one contact; raises UnknownContactKind, PhoneNotValid or HandleNotValid."""
    if kind not in CONTACT_KINDS:
        raise UnknownContactKind(kind)
    if kind in PHONE_KINDS:
        number, obfuscated = _parse_phone(kind, value)
        e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
        return NormalisedContact(kind, e164, obfuscated)
    recovered = recover_handle(value)
    if not recovered.text:
        raise HandleNotValid(kind, "empty after normalisation")
    if kind == "email" and recovered.text.count("@") != 1:
        raise HandleNotValid(kind, "an e-mail address needs exactly one '@' after normalisation")
    return NormalisedContact(kind, recovered.text, recovered.obfuscated)


def _linkage_kind(kind: str) -> str:
    # WhatsApp and Signal reach the same person as the phone number, so all three share one pseudonym space.
    return "phone" if kind in PHONE_KINDS else kind


def _area(number: phonenumbers.PhoneNumber) -> str | None:
    area = geocoder.description_for_number(number, "en")
    return area if area and area != geocoder.country_name_for_number(number, "en") else None


def _pseudo(kind: str, value: str, pseudonymise: Callable[[str], str]) -> PseudoContact:
    linkage_kind = _linkage_kind(kind)
    try:
        normal = normalise_contact(kind, value)
    except PhoneNotValid as err:
        if err.digit_count == 0:
            raise
        # An invalid number still links the ads that share it, so keep a pseudonym of its bare digits.
        recovered = recover_phone_digits(value)
        return PseudoContact(kind, pseudonymise(f"{linkage_kind}:{recovered.text}"), recovered.obfuscated,
                             valid=False)
    pseudonym = pseudonymise(f"{linkage_kind}:{normal.value}")
    if kind not in PHONE_KINDS:
        return PseudoContact(kind, pseudonym, normal.obfuscated, valid=True)
    number = phonenumbers.parse(normal.value)
    return PseudoContact(kind, pseudonym, normal.obfuscated, valid=True, calling_code=number.country_code,
                         region=phonenumbers.region_code_for_number(number), area=_area(number))


def pseudonymise_contacts(ad: Ad, pseudonymise: Callable[[str], str]) -> tuple[PseudoContact, ...]:
    """Replace each contact of ``ad`` by a PseudoContact; the caller's keyed HMAC gets f"{kind}:{normalised}".

    For whatsapp and signal the kind in the HMAC input is "phone", so one number links across the three apps.

    Contacts that cannot be normalised at all (an empty handle) are dropped: there is nothing to link on.
    Duplicates (the same number given twice) collapse to one entry, in first-seen order.
    """
    seen: dict[str, PseudoContact] = {}
    for contact in ad.contacts:
        try:
            pseudo = _pseudo(contact.kind, contact.value, pseudonymise)
        except ContactRejected:
            continue
        seen.setdefault(pseudo.pseudonym, pseudo)
    return tuple(seen.values())
