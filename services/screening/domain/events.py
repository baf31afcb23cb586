"""The events screening publishes, and builders of their ``data`` (camelCase, as in ``schemas/events/screening.*``
and ``schemas/events/partner.*``).

Nothing personal goes into any of them: ids, codes, counts and times only. No answer, no reason for an override, no
free text. The partner events carry the payload ``redaction.redact`` left for the agency and purpose, under the
agency's own pseudonym of the screening (``subjectRef``), so two agencies cannot join what they received.

``subject`` (the Kafka key) is the screening for screening and consent events, the referral for referral events.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Iterable, Mapping

SCREENING_RECORDED = "screening.screening.recorded"
INSPECTION_RECORDED = "screening.joint_inspection.recorded"
TALK_HELD = "screening.identification_talk.held"
CONSENT_GRANTED = "screening.consent.granted"
CONSENT_NARROWED = "screening.consent.narrowed"
CONSENT_WITHDRAWN = "screening.consent.withdrawn"
CONSENT_OVERRIDDEN = "screening.consent.overridden"
REFERRAL_STATE_CHANGED = "screening.referral.state_changed"
DECISION_RECORDED = "screening.referral.decision_recorded"
DEADLINE_MISSED = "screening.deadline.missed"
CONSENT_EVENTS = {"granted": CONSENT_GRANTED, "narrowed": CONSENT_NARROWED, "withdrawn": CONSENT_WITHDRAWN}

# keys that would carry what a person or a worker wrote: never in an event
PERSONAL_KEYS = frozenset({"reason", "note", "notes", "text", "answers", "name", "address", "phone", "email",
                           "message", "label"})


def shared(agency: str) -> str:
    return f"partner.{agency}.referral.shared"


def revoked(agency: str) -> str:
    return f"partner.{agency}.referral.revoked"


def iso_time(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _day(value: date | str) -> str:
    return value.isoformat() if isinstance(value, date) else value


def _pairs(pairs: Iterable) -> list[dict]:
    return [{"recipient": p.recipient, "purpose": p.purpose} for p in sorted(pairs, key=lambda p: (p.recipient,
                                                                                                  p.purpose))]


def screening_recorded(*, screening_id: str, organisation: str, recorded_by: str, screened_on, context: str,
                       instrument: str, version: str, outcome: str, indicator_count: int,
                       methods_of_control: Iterable[str], sector: str | None, region: str | None,
                       municipality: str | None, venue_id: str | None, joint_inspection_id: str | None,
                       identification_talk: str) -> dict:
    return {"screeningId": screening_id, "organisation": organisation, "recordedBy": recorded_by,
            "screenedOn": _day(screened_on), "context": context, "instrument": instrument,
            "instrumentVersion": version, "outcome": outcome, "indicatorCount": indicator_count,
            "methodsOfControl": sorted(methods_of_control), "sector": sector, "region": region,
            "municipality": municipality, "venueId": venue_id, "jointInspectionId": joint_inspection_id,
            "identificationTalk": identification_talk}


def inspection_recorded(*, inspection_id: str, organisation: str, recorded_by: str, inspected_on,
                        agencies: Iterable[str], sector: str, region: str, municipality: str) -> dict:
    return {"inspectionId": inspection_id, "organisation": organisation, "recordedBy": recorded_by,
            "inspectedOn": _day(inspected_on), "agencies": sorted(agencies), "sector": sector, "region": region,
            "municipality": municipality}


def talk_held(*, screening_id: str, organisation: str, recorded_by: str, held_on) -> dict:
    return {"screeningId": screening_id, "organisation": organisation, "recordedBy": recorded_by,
            "heldOn": _day(held_on)}


def consent_changed(*, screening_id: str, organisation: str, recorded_by: str, at: datetime, changed: Iterable,
                    in_force: Iterable, version: int, legal_basis: str | None) -> dict:
    return {"screeningId": screening_id, "organisation": organisation, "recordedBy": recorded_by,
            "at": iso_time(at), "changed": _pairs(changed), "inForce": _pairs(in_force), "consentVersion": version,
            "legalBasis": legal_basis}


def consent_overridden(*, screening_id: str, referral_id: str, recipient: str, purpose: str, organisation: str,
                       recorded_by: str, role: str, at: datetime) -> dict:
    return {"screeningId": screening_id, "referralId": referral_id, "recipient": recipient, "purpose": purpose,
            "organisation": organisation, "recordedBy": recorded_by, "role": role, "at": iso_time(at)}


def referral_state_changed(*, referral_id: str, screening_id: str, recipient: str, purpose: str, state: str,
                           previous: str | None, basis: str, organisation: str, at: datetime) -> dict:
    return {"referralId": referral_id, "screeningId": screening_id, "recipient": recipient, "purpose": purpose,
            "state": state, "previous": previous, "basis": basis, "organisation": organisation, "at": iso_time(at)}


def decision_recorded(*, referral_id: str, screening_id: str, status: str, decided_by: str, at: datetime) -> dict:
    return {"referralId": referral_id, "screeningId": screening_id, "status": status, "decidedBy": decided_by,
            "at": iso_time(at)}


def deadline_missed(*, deadline: str, subject_kind: str, subject_id: str, started_at: datetime, due_at: datetime,
                    escalate_to: str, version: str) -> dict:
    return {"deadline": deadline, "subjectKind": subject_kind, "subjectId": subject_id,
            "startedAt": iso_time(started_at), "dueAt": iso_time(due_at), "escalateTo": escalate_to,
            "deadlinesVersion": version}


def check_not_personal(data: Mapping[str, Any]) -> None:
    """A last guard the tests run over every builder: no key that would carry typed text, at any depth."""
    for key, value in data.items():
        if key in PERSONAL_KEYS:
            raise ValueError(f"event data must not carry {key!r}")
        if isinstance(value, Mapping):
            check_not_personal(value)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, Mapping):
                    check_not_personal(item)
