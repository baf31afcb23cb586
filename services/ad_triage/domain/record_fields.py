"""Validators for the structured fields of an ad record: contacts, price and image hashes.

Each appends "field: problem" reasons to the caller's list instead of raising, so parse_record can report every
problem in a record at once. Contact values are never quoted in a reason.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

CONTACT_KINDS = frozenset(
    {"phone", "whatsapp", "signal", "telegram", "snapchat", "instagram", "kik", "wechat", "line", "email"}
)
_CURRENCY = re.compile(r"[A-Z]{3}")  # ISO 4217 shape
_HASH = re.compile(r"[0-9a-f]{16,64}")  # 64-bit pHash up to 256-bit hashes, hex only


@dataclass(frozen=True)
class Contact:
    kind: str
    value: str  # raw, possibly obfuscated: never store or publish this (see contacts.pseudonymise_contacts)


@dataclass(frozen=True)
class Price:
    amount: int
    currency: str



def parse_contacts(raw: Any, reasons: list[str]) -> tuple[Contact, ...]:
    if not isinstance(raw, list):
        reasons.append("contacts: missing" if raw is None else "contacts: must be a list")
        return ()
    if len(raw) > 50:
        reasons.append("contacts: at most 50 contacts")
        return ()
    contacts = []
    for i, item in enumerate(raw):
        where = f"contacts[{i}]"
        if not isinstance(item, dict):
            reasons.append(f"{where}: must be an object with kind and value")
            continue
        kind, value = item.get("kind"), item.get("value")
        if kind not in CONTACT_KINDS:
            reasons.append(f"{where}.kind: unknown kind (allowed: {', '.join(sorted(CONTACT_KINDS))})")
        if not isinstance(value, str) or not value.strip():
            reasons.append(f"{where}.value: empty")
        elif len(value) > 200:
            reasons.append(f"{where}.value: longer than 200 characters")
            value = None
        if extra := set(item) - {"kind", "value"}:
            reasons.append(f"{where}: unexpected field(s) {', '.join(sorted(extra))}")
        if kind in CONTACT_KINDS and isinstance(value, str) and value.strip():
            contacts.append(Contact(kind, value.strip()))
    return tuple(contacts)


def parse_price(raw: Any, reasons: list[str]) -> Price | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        reasons.append("price: must be an object with amount and currency")
        return None
    amount, currency = raw.get("amount"), raw.get("currency")
    ok = True
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 <= amount < 10**12:
        reasons.append("price.amount: must be a non-negative integer")
        ok = False
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        reasons.append("price.currency: must be a three-letter ISO 4217 code such as DKK")
        ok = False
    return Price(amount, currency) if ok else None


def parse_image_hashes(raw: Any, reasons: list[str]) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        reasons.append("imageHashes: must be a list of hex strings")
        return ()
    if len(raw) > 50:
        reasons.append("imageHashes: at most 50 hashes")
        return ()
    hashes = []
    for i, value in enumerate(raw):
        if isinstance(value, str) and _HASH.fullmatch(value.lower()):
            hashes.append(value.lower())
        elif isinstance(value, str) and (value.startswith("data:") or len(value) > 64):
            reasons.append(f"imageHashes[{i}]: looks like image data; only perceptual hashes are accepted")
        else:
            reasons.append(f"imageHashes[{i}]: not a hex perceptual hash (16-64 hex digits)")
    return tuple(hashes)
