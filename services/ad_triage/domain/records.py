"""The Ad record accepted at ingestion, and its validator.

The validator reports every problem at once (an operator fixing a scraper wants the full list, not the first
error), names fields the way the input spells them, and never quotes a contact value back: rejection reasons end
up in logs, and logs must hold nothing personal.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlparse

from .record_fields import CONTACT_KINDS, Contact, Price, parse_contacts, parse_image_hashes, parse_price

__all__ = ["CONTACT_KINDS", "Ad", "AdKey", "Contact", "Price", "RecordRejected", "parse_record"]

AdKey = tuple[str, str]  # (platform, adId): the identity of an ad across re-scrapes

FIELDS = frozenset(
    {"platform", "adId", "url", "firstSeen", "lastSeen", "title", "text", "language", "location", "contacts",
     "price", "imageHashes"}
)
_LANGUAGE = re.compile(r"[a-z]{2}")  # ISO 639-1 shape; the code list itself is not enforced
# Every value that goes into an event is bounded here, at the door: one long field is a rejected record with its
# reason, never an event that breaks its contract (and with it a connector's batch or a rescore). The bounds are
# those of the ad_triage.ad.observed contract (schemas/events/).
LIMITS = {"platform": 100, "adId": 99, "url": 2000, "title": 2000, "text": 50000, "location": 200}
MAX_CONTACTS, MAX_CONTACT_VALUE = 50, 200


class RecordRejected(ValueError):
    """An input record failed validation; ``reasons`` lists every problem, each prefixed with its field."""

    def __init__(self, reasons: list[str]):
        super().__init__("; ".join(reasons))
        self.reasons = list(reasons)


@dataclass(frozen=True)
class Ad:
    platform: str
    ad_id: str
    url: str
    first_seen: datetime
    last_seen: datetime
    title: str
    text: str
    language: str
    location: str
    contacts: tuple[Contact, ...]
    price: Price | None = None
    image_hashes: tuple[str, ...] = ()

    @property
    def key(self) -> AdKey:
        return (self.platform, self.ad_id)


def _text(raw: dict, name: str, reasons: list[str], required: bool = True) -> str:
    value = raw.get(name)
    if value is None:
        if required:
            reasons.append(f"{name}: missing")
        return ""
    if not isinstance(value, str):
        reasons.append(f"{name}: must be a string, got {type(value).__name__}")
        return ""
    if required and not value.strip():
        reasons.append(f"{name}: empty")
    if name in LIMITS and len(value.strip()) > LIMITS[name]:
        reasons.append(f"{name}: longer than {LIMITS[name]} characters")
        return ""
    return value.strip()


def _when(raw: dict, name: str, reasons: list[str]) -> datetime | None:
    value = _text(raw, name, reasons)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        reasons.append(f"{name}: not an ISO 8601 datetime")
        return None
    if parsed.tzinfo is None:  # a naive time cannot be ordered against ads scraped in other time zones
        reasons.append(f"{name}: missing timezone offset")
        return None
    return parsed


def parse_record(raw: Any) -> Ad:
    """Validate one raw ad (as decoded from JSON) and return it, or raise RecordRejected listing every problem."""
    if not isinstance(raw, dict):
        raise RecordRejected([f"record: must be a JSON object, got {type(raw).__name__}"])
    reasons: list[str] = []
    # Unknown fields are refused rather than dropped: a scraper adding e.g. "name" would smuggle in personal data.
    reasons += [f"{name}: unexpected field" for name in sorted(set(raw) - FIELDS)]
    platform, ad_id = _text(raw, "platform", reasons), _text(raw, "adId", reasons)
    url = _text(raw, "url", reasons)
    if url and (urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc):
        reasons.append("url: must be an absolute http(s) URL")
    first, last = _when(raw, "firstSeen", reasons), _when(raw, "lastSeen", reasons)
    if first and last and last < first:
        reasons.append("lastSeen: before firstSeen")
    title, text = _text(raw, "title", reasons, required=False), _text(raw, "text", reasons)
    language = _text(raw, "language", reasons)
    if language and not _LANGUAGE.fullmatch(language):
        reasons.append("language: must be a two-letter lowercase ISO 639-1 code such as da or en")
    location = _text(raw, "location", reasons)
    contacts = parse_contacts(raw.get("contacts"), reasons)
    price, hashes = parse_price(raw.get("price"), reasons), parse_image_hashes(raw.get("imageHashes"), reasons)
    if reasons:
        raise RecordRejected(reasons)
    assert first is not None and last is not None  # guaranteed by the empty reason list
    return Ad(platform, ad_id, url, first, last, title, text, language, location, contacts, price, hashes)
