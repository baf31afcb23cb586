"""Arrivals: records on their way in, whichever source they came from (a bulk import, one ad from the gateway, a
crawler's observation event, a resubmission from the quarantine).

A raw record becomes either an ``Arrival`` (the stored-shape ad: contacts pseudonymised, text masked, plus the
reference that names this sighting) or a ``Rejection`` (the reasons and the raw record, which the service stores only
encrypted, in the quarantine). Raw contact values exist only inside these functions; reasons never quote one.
"""
from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from .masking import mask_contacts
from .record_lines import parse_csv, parse_jsonl
from .records import Ad, RecordRejected
from .stored import StoredAd, key_string, to_stored

FORMATS = ("jsonl", "csv")
MAX_KEY = 200  # an event subject holds at most 200 characters
CLOCK_SKEW = timedelta(minutes=5)  # default allowance for a lastSeen ahead of our clock (INGEST_CLOCK_SKEW_SECONDS)


@dataclass(frozen=True)
class Arrival:
    ad: StoredAd
    ref: str  # names this sighting: request id and line, or event id; a redelivery carries the same ref
    via: str
    line: int | None = None


@dataclass(frozen=True)
class Rejection:
    line: int | None
    reasons: tuple[str, ...]
    raw: str  # the record as received: encrypted before it is stored
    format: str


def service_checks(ad: Ad | StoredAd, now: datetime | None = None, skew: timedelta = CLOCK_SKEW) -> list[str]:
    """Rules of this service beyond the record validator: the ad key must be usable as an id and subject, and
    (given ``now``) the ad cannot have been seen later than now plus a small clock skew."""
    reasons = []
    if now is not None and ad.last_seen > now + skew:
        reasons.append(f"lastSeen: in the future (more than {int(skew.total_seconds())} s after the time received)")
    if "/" in ad.platform:
        reasons.append("platform: must not contain '/'")
    if len(key_string(ad.key)) > MAX_KEY:
        reasons.append(f"adId: platform and adId together must be at most {MAX_KEY - 1} characters")
    return reasons


def _csv_rows(lines: list[str]) -> tuple[str, dict[int, str]]:
    """The header and each row re-serialised on its own, by the physical line it ends on (as parse_csv counts)."""
    reader = csv.reader(lines)
    rows: dict[int, str] = {}
    header = ""
    for row in reader:
        out = io.StringIO()
        csv.writer(out, lineterminator="\n").writerow(row)
        if not header:
            header = out.getvalue()
        else:
            rows[reader.line_num] = out.getvalue()
    return header, rows


def split_lines(lines: list[str], fmt: str, pseudonymise: Callable[[str], str], ref_prefix: str, via: str,
                now: datetime | None = None, skew: timedelta = CLOCK_SKEW):
    """Parse a batch; returns (arrivals, rejections), each in line order. With ``now``, a lastSeen later than now
    plus ``skew`` is a rejection."""
    arrivals: list[Arrival] = []
    rejections: list[Rejection] = []
    if fmt == "jsonl":
        parsed, raw_of = parse_jsonl(lines), (lambda n: lines[n - 1])
    else:
        header, rows = _csv_rows(lines)
        parsed = parse_csv(lines)
        # a header problem rejects the whole chunk as one record (line 1), so keep all of it
        raw_of = lambda n: header + rows[n] if header and n in rows else "\n".join(lines)  # noqa: E731
    for line_no, outcome in parsed:
        if isinstance(outcome, Ad):
            extra = service_checks(outcome, now, skew)
            if not extra:
                arrivals.append(Arrival(to_stored(outcome, pseudonymise), f"{ref_prefix}:{line_no}", via, line_no))
                continue
            outcome = RecordRejected(extra)
        rejections.append(Rejection(line_no, tuple(outcome.reasons), raw_of(line_no), fmt))
    return arrivals, rejections


def quarantine_id(ref_prefix: str, line: int | None) -> str:
    """Derived from the request and line, so a redelivered request overwrites rather than duplicates."""
    return "q-" + hashlib.sha256(f"{ref_prefix}\x1f{line}".encode()).hexdigest()[:24]


def hint(raw: str, fmt: str) -> dict:
    """Platform and ad id when they can be read: they name the ad, not a person, so they stay in clear."""
    found: dict = {}
    try:
        if fmt == "jsonl":
            record = json.loads(raw)
        else:
            record = next(csv.DictReader(io.StringIO(raw)), None)
    except (ValueError, csv.Error):
        record = None
    if isinstance(record, dict):
        for source, target in (("platform", "platform"), ("adId", "ad_id")):
            if isinstance(record.get(source), str):
                found[target] = mask_contacts(record[source][:200])  # an id can carry a phone number
    return found
