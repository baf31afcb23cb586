"""A referral to a partner agency: its states, the trafficking decision it may carry, and the payloads it sends.

States follow HL7 FHIR Task (requested → received → accepted or rejected; accepted → completed; any open state →
revoked), so a partner's case system can map them one to one. Revoked is how consent withdrawal reaches a partner:
the revocation payload tells it to delete what it received. A decision uses the HTCDS status codes (Human Trafficking
Case Data Standard), so the figures compare with other countries'.

``partner_payload`` builds the FULL payload from stored documents; ``redaction.redact`` then cuts it to the agency's
allow-list. Keeping the two apart means one place decides shape and one decides what is shared.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from types import MappingProxyType
from typing import Mapping

from .errors import InvalidDecision, InvalidTransition, UnknownAgency
from .partners import PartnerPolicy

STATES = ("requested", "received", "accepted", "rejected", "completed", "revoked")
TERMINAL = ("rejected", "completed", "revoked")
TRANSITIONS: Mapping[str, frozenset[str]] = MappingProxyType({
    "requested": frozenset({"received", "revoked"}),
    "received": frozenset({"accepted", "rejected", "revoked"}),
    "accepted": frozenset({"completed", "revoked"}),
    "rejected": frozenset(),
    "completed": frozenset(),
    "revoked": frozenset(),
})
TRAFFICKING_STATUSES = ("PossibleVictimOfTrafficking", "ActualVictimOfTrafficking", "NotAVictimOfTrafficking")
REVOCATION_REASONS = ("consent_withdrawn", "consent_narrowed", "referral_revoked")
DECIDING_ORGANISATION = "cmm"  # CMM makes the formal identification, whoever else may decide


def check_transition(current: str, target: str) -> None:
    if target not in TRANSITIONS.get(current, ()):
        raise InvalidTransition(f"a referral cannot move from {str(current)[:20]!r} to {str(target)[:20]!r}", "state")


@dataclass(frozen=True)
class Decision:
    status: str  # one of TRAFFICKING_STATUSES
    decided_by: str  # organisation id


def check_decision(status: str, decided_by: str, policy: PartnerPolicy) -> Decision:
    if status not in TRAFFICKING_STATUSES:
        raise InvalidDecision(f"status must be one of {', '.join(TRAFFICKING_STATUSES)}", "status")
    if decided_by != DECIDING_ORGANISATION and decided_by not in policy.agencies:
        raise UnknownAgency(f"unknown organisation {str(decided_by)[:40]!r}", "decided_by")
    return Decision(status, decided_by)


def iso_utc(value: datetime) -> str:
    """ISO-8601 in UTC with a Z; a naive datetime is taken as UTC (what MongoDB hands back)."""
    value = value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)
    return value.replace(tzinfo=None).isoformat() + "Z"


def _compact(pairs: Mapping[str, object]) -> dict:
    """Drop missing values: a payload never carries None, and a section with nothing in it is left out."""
    return {k: v for k, v in pairs.items() if v is not None and v != {}}


def _day(value: object) -> object:
    return value.isoformat() if isinstance(value, date) and not isinstance(value, datetime) else value


def partner_payload(*, referral: Mapping, screening: Mapping, agency: str, subject_ref: str) -> dict:
    """The full payload (camelCase, nested) from the stored referral and screening documents."""
    context = screening.get("context") or {}
    person = screening.get("person") or {}
    fired = screening.get("fired")
    methods = screening.get("methods_of_control")
    moments = {k: referral.get(k) for k in ("requested_at", "acknowledge_by")}
    return _compact({
        "referralId": referral.get("_id"),
        "subjectRef": subject_ref,
        "agency": agency,
        "purpose": referral.get("purpose"),
        "state": referral.get("state"),
        "requestedAt": iso_utc(moments["requested_at"]) if moments["requested_at"] is not None else None,
        "acknowledgeBy": iso_utc(moments["acknowledge_by"]) if moments["acknowledge_by"] is not None else None,
        "referringOrganisation": referral.get("organisation"),
        "basis": referral.get("basis"),
        "screening": _compact({
            "instrument": screening.get("instrument"),
            "instrumentVersion": screening.get("version"),
            "outcome": screening.get("outcome"),
            "screenedOn": _day(screening.get("screened_on")),
            "indicators": None if fired is None else [
                _compact({"id": f.get("indicator"), "strength": f.get("strength"), "dimension": f.get("dimension")})
                for f in fired],
            "methodsOfControl": None if methods is None else list(methods),
            "rule": screening.get("rule"),
        }),
        "workplace": _compact({
            "sector": context.get("sector"),
            "isic": context.get("isic"),
            "municipality": context.get("municipality"),
            "region": context.get("region"),
            "jointInspection": context.get("joint_inspection"),
        }),
        "person": _compact({
            "languageGroup": person.get("language_group"),
            "ageBand": person.get("age_band"),
            "gender": person.get("gender"),
        }),
    })


def revocation_payload(*, referral_id: str, agency: str, subject_ref: str, revoked_at: datetime,
                       reason: str) -> dict:
    """What a partner is told when consent is withdrawn or narrowed, or a referral revoked: delete what you have."""
    if reason not in REVOCATION_REASONS:
        raise ValueError(f"revocation reason must be one of {', '.join(REVOCATION_REASONS)}")
    return {"referralId": referral_id, "subjectRef": subject_ref, "agency": agency,
            "revokedAt": iso_utc(revoked_at), "reason": reason, "action": "delete"}
