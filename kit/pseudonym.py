"""Keyed pseudonyms for personal identifiers, scoped by purpose.

A plain hash of a phone number is reversible by enumerating the number space, so every pseudonym is an HMAC under a
key that lives in configuration, never beside the data. Each purpose derives its own subkey, so pseudonyms made for
ad linkage cannot be joined with pseudonyms made for another purpose.
"""
from __future__ import annotations

import hashlib
import hmac
import re

_PURPOSE = re.compile(r"^[a-z][a-z0-9-]{1,40}$")
VERSION = "p1"  # bump when the derivation changes, so old and new pseudonyms are never confused


class Pseudonymiser:
    def __init__(self, key: bytes) -> None:
        if not isinstance(key, bytes) or len(key) < 32:
            raise ValueError("the pseudonymisation key must be at least 32 bytes")
        self._key = key
        self._subkeys: dict[str, bytes] = {}

    def _subkey(self, purpose: str) -> bytes:
        if purpose not in self._subkeys:
            if not _PURPOSE.match(purpose):
                raise ValueError(f"purpose must be lower-case words joined by '-', got {purpose!r}")
            self._subkeys[purpose] = hmac.new(self._key, b"actionplan-purpose:" + purpose.encode(), hashlib.sha256).digest()
        return self._subkeys[purpose]

    def pseudonymise(self, purpose: str, value: str) -> str:
        if not isinstance(value, str) or not value:
            raise ValueError("only a non-empty string can be pseudonymised")
        digest = hmac.new(self._subkey(purpose), value.encode("utf-8"), hashlib.sha256).hexdigest()
        return f"{VERSION}:{purpose}:{digest[:32]}"

    def for_purpose(self, purpose: str):
        """A one-argument function for domain code, which must not see the key."""
        self._subkey(purpose)
        return lambda value: self.pseudonymise(purpose, value)

    def __repr__(self) -> str:  # never print the key
        return "Pseudonymiser(<key hidden>)"
