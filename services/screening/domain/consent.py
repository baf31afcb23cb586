"""Consent to share a screening, as (recipient, purpose) pairs, and the override that shares without it.

Consent is per screening and specific: "CMM, for initial identification" is one pair, "the police, for a criminal
investigation" another (GDPR Art. 4(11) and 7: specific, informed, as easy to withdraw as to give). A person may widen
it (``grant``), narrow it, or withdraw it; each change counts up ``version`` so the audit log and the revocations it
causes can name the change they follow. An empty scope means no consent in force.

An override shares without consent: only a role the partner policy names, only for a purpose it names for that, and
only with a written reason long enough to be audited. The reason is returned for the record but never put in an error
message (errors end up in logs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from .errors import (ConsentNotGiven, InvalidConsent, InvalidOverride, OverrideNotAllowed,
                     PurposeNotAllowedForAgency, UnknownAgency, UnknownLegalBasis)
from .partners import PartnerPolicy

MAX_PAIRS = 30
MAX_REASON_LENGTH = 2000


@dataclass(frozen=True, order=True)
class Pair:
    recipient: str  # an agency id
    purpose: str


@dataclass(frozen=True)
class Consent:
    scope: frozenset[Pair]
    version: int  # how many changes led here; 0 = never given

    def allows(self, recipient: str, purpose: str) -> bool:
        return Pair(recipient, purpose) in self.scope

    @property
    def in_force(self) -> bool:
        return bool(self.scope)


NONE = Consent(frozenset(), 0)


def _short(value: object) -> str:
    return repr(str(value)[:40])


def check_pairs(pairs: Iterable[Mapping], policy: PartnerPolicy) -> frozenset[Pair]:
    """Each ``{"recipient", "purpose"}`` checked against the policy: a person can only consent to what could be sent."""
    if isinstance(pairs, (str, bytes, Mapping)) or not isinstance(pairs, Iterable):
        raise InvalidConsent("scope must be a list of {recipient, purpose}", "scope")
    checked: set[Pair] = set()
    for count, item in enumerate(pairs, start=1):
        if count > MAX_PAIRS:
            raise InvalidConsent(f"scope lists more than {MAX_PAIRS} pairs", "scope")
        if not isinstance(item, Mapping) or set(item) != {"recipient", "purpose"} \
                or not all(isinstance(item[k], str) for k in ("recipient", "purpose")):
            raise InvalidConsent("each scope entry must be {recipient, purpose}", "scope")
        recipient, purpose = item["recipient"], item["purpose"]
        agency = policy.agencies.get(recipient)
        if agency is None:
            raise UnknownAgency(f"unknown agency {_short(recipient)}", "scope")
        if purpose not in agency.purposes:
            raise PurposeNotAllowedForAgency(f"agency {recipient!r} has no purpose {_short(purpose)}", "scope")
        if policy.consent_purposes is not None and purpose not in policy.consent_purposes:
            raise PurposeNotAllowedForAgency(f"purpose {purpose!r} cannot be consented to", "scope")
        checked.add(Pair(recipient, purpose))
    if not checked:
        raise InvalidConsent("scope must name at least one recipient and purpose", "scope")
    return frozenset(checked)


def grant(current: Consent, pairs: frozenset[Pair]) -> tuple[Consent, frozenset[Pair]]:
    """Widen the scope; returns the new consent and the pairs it added (what may now be shared)."""
    added = frozenset(pairs) - current.scope
    if not added:
        raise InvalidConsent("already consented", "scope")
    return Consent(current.scope | added, current.version + 1), added


def narrow(current: Consent, pairs: frozenset[Pair]) -> tuple[Consent, frozenset[Pair]]:
    """Remove some pairs; returns the new consent and the pairs removed (each a revocation where already sent).

    Removing every pair is a withdrawal and must say so (``withdraw``): the person's intent is recorded as given.
    """
    if not current.scope:
        raise ConsentNotGiven("no consent in force to narrow", "scope")
    removed = frozenset(pairs)
    if not removed:
        raise InvalidConsent("narrowing must name at least one pair", "scope")
    if not removed <= current.scope:
        raise InvalidConsent("narrowing names a pair that is not consented to", "scope")
    if removed == current.scope:
        raise InvalidConsent("narrowing would remove every pair: withdraw the consent instead", "scope")
    return Consent(current.scope - removed, current.version + 1), removed


def withdraw(current: Consent) -> tuple[Consent, frozenset[Pair]]:
    """Withdraw all consent; returns the empty consent and every pair removed."""
    if not current.scope:
        raise ConsentNotGiven("no consent in force to withdraw", "scope")
    return Consent(frozenset(), current.version + 1), current.scope


def check_legal_basis(code: str, policy: PartnerPolicy) -> str:
    """How the consent was obtained (a code from the policy, e.g. oral through an interpreter)."""
    if not isinstance(code, str) or code not in policy.legal_bases:
        raise UnknownLegalBasis(f"unknown legal basis {_short(code)}", "legal_basis")
    return code


def check_override(*, role: str, recipient: str, purpose: str, reason: str, policy: PartnerPolicy) -> str:
    """Whether this caller may share without consent; returns the reason, stripped, for the audit record."""
    if role not in policy.override_roles:
        raise OverrideNotAllowed(f"role {_short(role)} may not share without consent", "role")
    agency = policy.agencies.get(recipient)
    if agency is None:
        raise UnknownAgency(f"unknown agency {_short(recipient)}", "recipient")
    if purpose not in agency.purposes:
        raise PurposeNotAllowedForAgency(f"agency {recipient!r} has no purpose {_short(purpose)}", "purpose")
    if purpose not in policy.override_purposes:
        raise OverrideNotAllowed(f"purpose {purpose!r} cannot be shared without consent", "purpose")
    text = reason.strip() if isinstance(reason, str) else ""
    if len(text) < policy.min_reason_length:
        raise InvalidOverride(f"reason must be at least {policy.min_reason_length} characters", "reason")
    if len(text) > MAX_REASON_LENGTH:
        raise InvalidOverride(f"reason must be at most {MAX_REASON_LENGTH} characters", "reason")
    return text
