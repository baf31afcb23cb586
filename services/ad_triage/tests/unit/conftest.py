"""Shared builders for the ad-triage unit tests (no I/O beyond the shipped rule and corpus files)."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

import pytest

from services.ad_triage.domain.records import Ad, Contact, parse_record

TEST_KEY = b"unit-test-key-not-secret"


def pseudonymise(value: str) -> str:
    """Stands in for the service's keyed HMAC (purpose "ad-linkage"): same construction, throwaway key."""
    return hmac.new(TEST_KEY, value.encode(), hashlib.sha256).hexdigest()[:32]


def raw_ad(**overrides) -> dict:
    raw = {
        "platform": "dkescort.example", "adId": "1", "url": "https://dkescort.example/annonce/1",
        "firstSeen": "2016-05-01T10:00:00+00:00", "lastSeen": "2016-05-03T10:00:00+00:00",
        "title": "Anna - Odense", "text": "Velkommen til min private massage. Ring 29 99 12 34.",
        "language": "da", "location": "Odense", "contacts": [{"kind": "phone", "value": "29 99 12 34"}],
        "price": {"amount": 1000, "currency": "DKK"}, "imageHashes": ["07f062cec7b317d9"],
    }
    raw.update(overrides)
    return {k: v for k, v in raw.items() if v is not None}


def make_ad(text: str = "Hej", language: str = "da", contacts: tuple[Contact, ...] = (), ad_id: str = "1",
            location: str = "Odense", title: str = "", last_seen: str = "2016-05-03T10:00:00+00:00") -> Ad:
    return parse_record(raw_ad(
        text=text, language=language, adId=ad_id, location=location, title=title or "x", lastSeen=last_seen,
        contacts=[{"kind": c.kind, "value": c.value} for c in contacts], price=None, imageHashes=None,
    ))


@pytest.fixture
def utc():
    return lambda *args: datetime(*args, tzinfo=timezone.utc)
