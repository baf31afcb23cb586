"""The events outreach publishes, and builders of their ``data`` (camelCase, as in ``schemas/events/outreach.*``).

Nothing personal goes into any of them: counts, codes, days and pseudonymous ids only. No venue label or address,
no note, no follow-up code (the ``followUpId`` is a random internal link id, not the code the person keeps). The
builders take exactly the fields of the schema, so a caller cannot add one by accident; ``check_not_personal``
is a last guard the tests run over every builder.

The domain builds data; the service layer wraps it in the CloudEvents envelope and writes it to the outbox in the
transaction of the change. ``subject`` (the Kafka key, so order holds per key) is the venue for venue and visit
events, the cluster for a digital contact, the venue for a contact at a venue, the follow-up id for consent.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Mapping

from .funding import Funding
from .tasks import reached
from .visits import VisitRecord

VENUE_REGISTERED = "outreach.venue.registered"
CONCERN_CHANGED = "outreach.venue.concern_changed"
VISIT_PLANNED = "outreach.visit.planned"
VISIT_RECORDED = "outreach.visit.recorded"
VISIT_OVERDUE = "outreach.visit.overdue"
CONTACT_MADE = "outreach.contact.made"
TALK_HELD = "outreach.identification_talk.held"
CONSENT_GIVEN = "outreach.follow_up_consent.given"
CONSENT_WITHDRAWN = "outreach.follow_up_consent.withdrawn"
ALL = (VENUE_REGISTERED, CONCERN_CHANGED, VISIT_PLANNED, VISIT_RECORDED, VISIT_OVERDUE, CONTACT_MADE, TALK_HELD,
       CONSENT_GIVEN, CONSENT_WITHDRAWN)
TOPICS = {VENUE_REGISTERED: "outreach.venues", CONCERN_CHANGED: "outreach.venues",
          VISIT_PLANNED: "outreach.visits", VISIT_RECORDED: "outreach.visits", VISIT_OVERDUE: "outreach.visits",
          CONTACT_MADE: "outreach.contacts", TALK_HELD: "outreach.contacts", CONSENT_GIVEN: "outreach.contacts",
          CONSENT_WITHDRAWN: "outreach.contacts"}

# ad triage's facts that open and reprioritise digital outreach tasks
AD_FLAGGED = "ad_triage.ad.flagged"
AD_PRIORITY_CHANGED = "ad_triage.ad.priority_changed"
# the screening service's results at a venue become the venue's screening-outcome signal
SCREENING_RECORDED = "screening.screening.recorded"
CONSUMED = (AD_FLAGGED, AD_PRIORITY_CHANGED, SCREENING_RECORDED)

CONCERN_CAUSES = ("signal", "decay", "rules")
PLAN_CAUSES = ("planned", "revisit")
# keys that would carry what a person or a worker wrote, or the code a person keeps: never in an event
PERSONAL_KEYS = frozenset({"label", "address", "note", "notes", "text", "followUpCode", "code", "name",
                           "message", "phone", "email"})


def _day(value: date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value


def check_not_personal(data: Mapping[str, Any]) -> Mapping[str, Any]:
    """Refuse data with a personal key at any depth (a programming error, so a plain ValueError)."""
    for key, value in data.items():
        if key in PERSONAL_KEYS:
            raise ValueError(f"event data must not carry {key!r}")
        if isinstance(value, Mapping):
            check_not_personal(value)
    return data


def subject_of_contact(*, cluster_id: str | None, venue_id: str | None, fallback: str) -> str:
    """A digital contact is keyed by its cluster (ad triage reads them in order), one at a venue by the venue."""
    return cluster_id or venue_id or fallback


def venue_registered(*, venue_id: str, kind: str, municipality: str, region: str, organisation: str) -> dict:
    return {"venueId": venue_id, "kind": kind, "municipality": municipality, "region": region,
            "organisation": organisation}


def concern_changed(*, venue_id: str, region: str, score: float, level: str, previous_level: str,
                    of_concern: bool, previously_of_concern: bool, ruleset_version: str, cause: str) -> dict:
    if cause not in CONCERN_CAUSES:
        raise ValueError(f"cause must be one of {', '.join(CONCERN_CAUSES)}")
    return {"venueId": venue_id, "region": region, "score": score, "level": level, "previousLevel": previous_level,
            "ofConcern": of_concern, "previouslyOfConcern": previously_of_concern,
            "rulesetVersion": ruleset_version, "cause": cause}


def visit_planned(*, visit_id: str, venue_id: str, team_id: str, organisation: str, region: str,
                  due_on: date | str, cause: str) -> dict:
    if cause not in PLAN_CAUSES:
        raise ValueError(f"cause must be one of {', '.join(PLAN_CAUSES)}")
    return {"visitId": visit_id, "venueId": venue_id, "teamId": team_id, "organisation": organisation,
            "region": region, "dueOn": _day(due_on), "cause": cause}


def visit_recorded(*, visit_id: str, venue_id: str, team_id: str, organisation: str, region: str,
                   record: VisitRecord, funding: Funding) -> dict:
    return {"visitId": visit_id, "venueId": venue_id, "teamId": team_id, "organisation": organisation,
            "region": region, "visitedOn": _day(record.visited_on), "peopleMet": dict(record.people_met),
            "peopleMetTotal": record.people_met_total, "materials": list(record.materials),
            "healthServices": list(record.health_services), "identificationTalk": record.identification_talk,
            "indicators": list(record.indicators), "screeningOutcome": record.screening_outcome,
            "followUpNeeded": record.follow_up_needed, "funding": funding.as_dict()}


def visit_overdue(*, visit_id: str, venue_id: str, team_id: str, organisation: str, region: str,
                  due_on: date | str, detected_on: date | str) -> dict:
    return {"visitId": visit_id, "venueId": venue_id, "teamId": team_id, "organisation": organisation,
            "region": region, "dueOn": _day(due_on), "detectedOn": _day(detected_on)}


def contact_made(*, contact_id: str, channel: str, occurred_on: date | str, outcome: str, organisation: str,
                 funding: Funding, venue_id: str | None = None, visit_id: str | None = None,
                 task_id: str | None = None, cluster_id: str | None = None, ruleset_version: str | None = None,
                 follow_up_id: str | None = None, language_group: str | None = None) -> dict:
    """``reached`` is derived from the outcome, so the label ad triage counts cannot disagree with it."""
    return {"contactId": contact_id, "channel": channel, "occurredOn": _day(occurred_on), "outcome": outcome,
            "reached": reached(outcome), "venueId": venue_id, "visitId": visit_id, "taskId": task_id,
            "clusterId": cluster_id, "rulesetVersion": ruleset_version, "followUpId": follow_up_id,
            "languageGroup": language_group, "organisation": organisation, "funding": funding.as_dict()}


def identification_talk_held(*, held_on: date | str, organisation: str, contact_id: str | None = None,
                             venue_id: str | None = None, task_id: str | None = None, cluster_id: str | None = None,
                             ruleset_version: str | None = None, follow_up_id: str | None = None) -> dict:
    return {"contactId": contact_id, "venueId": venue_id, "taskId": task_id, "clusterId": cluster_id,
            "rulesetVersion": ruleset_version, "heldOn": _day(held_on), "organisation": organisation,
            "followUpId": follow_up_id}


def consent_given(*, follow_up_id: str, scope: Iterable[str], contact_id: str, organisation: str,
                  recorded_on: date | str) -> dict:
    return {"followUpId": follow_up_id, "scope": list(scope), "contactId": contact_id, "organisation": organisation,
            "recordedOn": _day(recorded_on)}


def consent_withdrawn(*, follow_up_id: str, organisation: str, withdrawn_on: date | str) -> dict:
    return {"followUpId": follow_up_id, "organisation": organisation, "withdrawnOn": _day(withdrawn_on)}


BUILDERS = {VENUE_REGISTERED: venue_registered, CONCERN_CHANGED: concern_changed, VISIT_PLANNED: visit_planned,
            VISIT_RECORDED: visit_recorded, VISIT_OVERDUE: visit_overdue, CONTACT_MADE: contact_made,
            TALK_HELD: identification_talk_held, CONSENT_GIVEN: consent_given, CONSENT_WITHDRAWN: consent_withdrawn}
