"""Anonymous contacts and follow-up.

A person met may stay anonymous: then nothing links one contact to the next. With their agreement they get a
follow-up code to keep (on a card, in their phone): 60 random bits from ``secrets``, not derived from anything
about them, so the code cannot be recomputed from a name or a phone number. Later contacts quoting it are linked
through an internal follow-up id (``fu-…``). The code itself is never in an event, a log or a trace, and the
store keeps only its HMAC (``code_digest``), so a database reader cannot list the codes people carry.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass, replace
from datetime import date

from .errors import ConsentWithdrawn, InvalidConsent, InvalidFollowUpCode
from .reference import code_list

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"  # Crockford base32: no I, L, O (misread) and no U
CODE_BITS = 60  # 12 symbols of 5 bits
CODE_SHAPE = re.compile(r"^FU-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$")
_SYMBOLS = re.compile(r"^[0-9A-HJKMNP-TV-Z]{12}$")
_READ_AS = str.maketrans({"I": "1", "L": "1", "O": "0"})  # Crockford: what a person writes for 1 and 0
_REFUSED = "follow_up_code must look like FU-XXXX-XXXX-XXXX"  # never echo what was given: it may be a real code
REQUIRED_SCOPE = "follow_up_contact"


def new_follow_up_code() -> str:
    """A fresh code: 60 random bits in Crockford base32, grouped in fours so it can be read out and written down."""
    bits = secrets.randbits(CODE_BITS)
    digits = "".join(ALPHABET[(bits >> shift) & 31] for shift in range(CODE_BITS - 5, -1, -5))
    return f"FU-{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def parse_follow_up_code(text: object) -> str:
    """The canonical form of a code as a person may say or write it: any case, spaces or dashes anywhere, the FU
    prefix optional, I and L read as 1 and O as 0 (as Crockford decodes). Anything else is refused."""
    if not isinstance(text, str) or len(text) > 40:
        raise InvalidFollowUpCode(_REFUSED, "follow_up_code")
    compact = re.sub(r"[\s\-]", "", text).upper()
    if len(compact) == 14 and compact.startswith("FU"):
        compact = compact[2:]
    digits = compact.translate(_READ_AS)
    if not _SYMBOLS.match(digits):
        raise InvalidFollowUpCode(_REFUSED, "follow_up_code")
    return f"FU-{digits[:4]}-{digits[4:8]}-{digits[8:]}"


def code_digest(code: str, key: bytes) -> str:
    """What the store keeps of a code: HMAC-SHA256 under the pseudonym key, of the canonical form (so "fu-0abc…"
    and "FU-OABC…" find the same record)."""
    return hmac.new(key, parse_follow_up_code(code).encode("ascii"), hashlib.sha256).hexdigest()


def new_follow_up_id() -> str:
    # the internal link id that events carry; random too, so it reveals nothing about the code
    return "fu-" + secrets.token_hex(8)


def new_contact_id() -> str:
    return "con-" + secrets.token_hex(8)


def consent_scope(scope: object, field: str = "follow_up_consent") -> tuple[str, ...]:
    """The scope a person agreed to; follow-up contact itself must be part of it (else there is nothing to link)."""
    if isinstance(scope, dict):
        if set(scope) != {"scope"}:
            raise InvalidConsent(f"{field} must be {{scope: [codes]}}", field)
        scope = scope["scope"]
    checked = code_list("consentScopes", scope, field, limit=10)
    if REQUIRED_SCOPE not in checked:
        raise InvalidConsent(f"{field}'s scope must include {REQUIRED_SCOPE}", field)
    return checked


@dataclass(frozen=True)
class Consent:
    follow_up_id: str
    scope: tuple[str, ...]
    organisation: str
    given_on: date
    withdrawn_on: date | None = None

    @property
    def active(self) -> bool:
        return self.withdrawn_on is None

    def check_usable(self) -> None:
        """A withdrawn consent links nothing more: the person said no."""
        if not self.active:
            # the message names no id: the caller holds the code, and the internal id would tie it to the events
            raise ConsentWithdrawn("the follow-up consent of this code was withdrawn", "follow_up_code")

    def withdraw(self, on: date) -> "Consent":
        # withdrawing twice keeps the first date: a retry must not move when the person said no
        return self if not self.active else replace(self, withdrawn_on=on)


def give_consent(follow_up_id: str, scope: object, organisation: str, given_on: date) -> Consent:
    return Consent(follow_up_id, consent_scope(scope), organisation, given_on)
