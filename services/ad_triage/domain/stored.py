"""The ad as it may be stored and published: contacts pseudonymised, contact details masked out of the text.

This is the only shape of an ad that should leave the ingestion step; the raw Ad holds contact values.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from .clusters import LinkedAd
from .contacts import PseudoContact, pseudonymise_contacts
from .masking import mask_contacts
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


def to_stored(ad: Ad, pseudonymise: Callable[[str], str]) -> StoredAd:
    """Pseudonymise contacts and mask title and text (also masking the ad's own contact values verbatim)."""
    own_values = [contact.value for contact in ad.contacts]
    return StoredAd(
        platform=ad.platform, ad_id=ad.ad_id, url=ad.url, first_seen=ad.first_seen, last_seen=ad.last_seen,
        title=mask_contacts(ad.title, own_values), text=mask_contacts(ad.text, own_values),
        language=ad.language, location=ad.location, contacts=pseudonymise_contacts(ad, pseudonymise),
        price=ad.price, image_hashes=ad.image_hashes,
    )


def key_string(key: AdKey) -> str:
    """The ad key as one string (ids, event subjects): arrivals refuse platforms containing '/'."""
    return f"{key[0]}/{key[1]}"


def key_tuple(key: str) -> AdKey:
    platform, _, ad_id = key.partition("/")
    return platform, ad_id
