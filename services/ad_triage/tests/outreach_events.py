"""Outreach events as the outreach service publishes them (the spec's table, checked against the contracts in
schemas/events/): a digital contact on a cluster's task, a contact at a venue, an identification talk held."""
from __future__ import annotations

import secrets

from kit.envelope import new_event

FUNDING = {"kind": "budget", "id": "cmm-own-budget", "initiative": 3, "fundCode": "cmm-own-budget"}


def hex16() -> str:
    return secrets.token_hex(8)


def cluster_id() -> str:
    return f"cl-{hex16()}"


def contact_made(cluster: str | None, outcome: str, version: str | None = "1.0.0", contact_id: str | None = None,
                 channel: str = "sms", on: str = "2016-06-02") -> dict:
    """outreach.contact.made: digital when ``cluster`` is given (its task's id follows from it), else at a venue."""
    venue = None if cluster else f"ven-{hex16()}"
    data = {"contactId": contact_id or f"con-{hex16()}", "channel": channel if cluster else "visit",
            "occurredOn": on, "outcome": outcome,
            "reached": outcome in ("conversation_held", "information_given", "identification_talk_agreed"),
            "venueId": venue, "visitId": None if cluster else f"vis-{hex16()}",
            "taskId": f"ot-{cluster[3:]}" if cluster else None, "clusterId": cluster,
            "rulesetVersion": version if cluster else None, "followUpId": None, "languageGroup": None,
            "organisation": "cmm", "funding": FUNDING}
    return new_event("outreach.contact.made", "outreach", cluster or venue, data)


def talk_held(cluster: str | None, version: str | None = "1.0.0", contact_id: str | None = None,
              on: str = "2016-06-10") -> dict:
    venue = None if cluster else f"ven-{hex16()}"
    data = {"contactId": contact_id or f"con-{hex16()}", "venueId": venue,
            "taskId": f"ot-{cluster[3:]}" if cluster else None, "clusterId": cluster,
            "rulesetVersion": version if cluster else None, "heldOn": on, "organisation": "cmm", "followUpId": None}
    return new_event("outreach.identification_talk.held", "outreach", cluster or venue, data)
