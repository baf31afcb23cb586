"""The ad as it may be stored and published: contacts pseudonymised, contact details masked out of the text.

This is the only shape of an ad that should leave the ingestion step; the raw Ad holds contact values.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import phonenumbers

from .clusters import LinkedAd
from .contacts import DEFAULT_REGION, PseudoContact, pseudonymise_contacts
from .deobfuscation import normalise_text, recover_phone_digits
from .masking import MASK, URL_MASK, mask_contacts, mask_scan, scan_contacts
from .records import Ad, AdKey, Price


@dataclass(frozen=True)
class StoredAd:
    platform: str
    ad_id: str
    url: str
    first_seen: datetime
    last_seen: datetime
    title: str  # masked
    text: str  # masked
    language: str
    location: str
    contacts: tuple[PseudoContact, ...]
    price: Price | None
    image_hashes: tuple[str, ...]

    @property
    def key(self) -> AdKey:
        return (self.platform, self.ad_id)

    def as_linked(self) -> LinkedAd:
        return LinkedAd(self.key, self.location, self.platform, self.first_seen, self.last_seen,
                        tuple(c.pseudonym for c in self.contacts))


def _own_digits(ad: Ad) -> list[str]:
    """The ad's phone contacts as the digits an id or URL would show them (national part, with and without code)."""
    found = []
    for contact in ad.contacts:
        digits = recover_phone_digits(contact.value).text.lstrip("+")
        if len(digits) >= 6:
            found += [digits, digits[-8:]]
    return found


_PLAIN_RUN = re.compile(r"\+?[0-9]{6,}")


def _numbering_hidden(value: str, own_values, is_phone: Callable[[str], bool]) -> str:
    """``value`` normalised, with plain ASCII digit runs that are no phone number (a platform's ad numbering,
    "100000") and none of the ad's own numbers replaced by '#', so only contacts are left to find. A run that is
    only the start of a longer disguised number ("200000zerozero": the masking reads on past the digits) is no
    numbering and stays."""
    normal = normalise_text(value)
    masked = mask_contacts(normal)

    def hide(run: re.Match[str]) -> str:
        digits = run.group(0)
        start, end = run.span()
        if any(v in digits for v in own_values if len(v) >= 6):
            return digits
        if (start > 0 and masked[start - 1] == MASK) or (end < len(masked) and masked[end] == MASK):
            return digits
        return digits if is_phone(digits) else "#" * len(digits)  # the costly test last
    return _PLAIN_RUN.sub(hide, normal)


def _is_phone(digits: str) -> bool:
    """A valid number nationally (DK) or internationally ("4072..." read as +4072...)."""
    for candidate in (digits, "+" + digits.lstrip("+")):
        try:
            if phonenumbers.is_valid_number(phonenumbers.parse(candidate, DEFAULT_REGION)):
                return True
        except phonenumbers.NumberParseException:
            continue
    return False


def _contact_mask(value: str, own_values, mask: str, is_phone: Callable[[str], bool] = _is_phone) -> str:
    """``value`` (normalised) with its contacts masked by ``mask``; plain numbering stays readable."""
    normal = normalise_text(value)
    masked = mask_contacts(_numbering_hidden(value, own_values, is_phone), own_values)
    return "".join(mask if m == MASK and o != MASK else o for o, m in zip(normal, masked))


def _stored_ad_id(platform: str, ad_id: str, pseudonymise: Callable[[str], str], own_values,
                  is_phone: Callable[[str], bool]) -> str:
    if MASK not in _contact_mask(ad_id, own_values, MASK, is_phone):
        return ad_id
    return "m-" + pseudonymise(f"ad-id:{platform}/{ad_id}").rpartition(":")[2]


def stored_ad_id(platform: str, ad_id: str, pseudonymise: Callable[[str], str], own_values=()) -> str:
    """The ad id as stored: the platform's own, unless it carries a contact ("anna-29991234", a handle, one of the
    ad's own numbers), then a keyed pseudonym of it, so the key stays one per ad (a re-scrape finds it again)
    without holding the contact. Plain numbering ("100000", "jsonl-100000") is not a contact."""
    return _stored_ad_id(platform, ad_id, pseudonymise, own_values, _is_phone)


def _stored_url(url: str, ad_id: str, stored_id: str, own_values, is_phone: Callable[[str], bool]) -> str:
    own = list(own_values) + ([ad_id] if stored_id != ad_id else [])
    return _contact_mask(url, own, URL_MASK, is_phone)


def stored_url(url: str, ad_id: str, stored_id: str, own_values=()) -> str:
    """The URL with contacts masked by URL_MASK (a masked URL still parses); when the ad id was replaced by a
    pseudonym, its occurrences in the URL are masked too."""
    return _stored_url(url, ad_id, stored_id, own_values, _is_phone)


def to_stored(ad: Ad, pseudonymise: Callable[[str], str]) -> StoredAd:
    """Pseudonymise contacts and mask title, text, location and url (also masking the ad's own contact values
    verbatim); an ad id that carries a contact is replaced by a pseudonym of it. Contacts written in the title,
    text or location join the contacts field's (source "text"), found by the same scan that masks them."""
    own_values = [contact.value for contact in ad.contacts]
    own_ids = own_values + _own_digits(ad)
    # The URL repeats the ad id's numbering: validate each run once per ad (the cache goes with this call).
    is_phone = functools.cache(_is_phone)
    ad_id = _stored_ad_id(ad.platform, ad.ad_id, pseudonymise, own_ids, is_phone)
    title, text, location = scans = (scan_contacts(ad.title), scan_contacts(ad.text), scan_contacts(ad.location))
    return StoredAd(
        platform=ad.platform, ad_id=ad_id, url=_stored_url(ad.url, ad.ad_id, ad_id, own_ids, is_phone),
        first_seen=ad.first_seen, last_seen=ad.last_seen,
        title=mask_scan(title, own_values), text=mask_scan(text, own_values),
        language=ad.language, location=mask_scan(location, own_values),
        contacts=pseudonymise_contacts(ad, pseudonymise, scans), price=ad.price, image_hashes=ad.image_hashes,
    )


def key_string(key: AdKey) -> str:
    """The ad key as one string (ids, event subjects): arrivals refuse platforms containing '/'."""
    return f"{key[0]}/{key[1]}"


def key_tuple(key: str) -> AdKey:
    platform, _, ad_id = key.partition("/")
    return platform, ad_id
