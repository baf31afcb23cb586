"""Domain objects ↔ MongoDB documents. Labels, addresses and inspection notes are encrypted here, on the way in,
bound to their record and field (kit.fieldcrypt), so a ciphertext cannot be moved to another record or field."""
from __future__ import annotations

from services.outreach.domain.venues import Venue

LABEL, ADDRESS, NOTE = "label", "address", "note"


def venue_doc(venue: Venue, address: str | None, seal) -> dict:
    context = f"venue/{venue.venue_id}"
    return {"_id": venue.venue_id, "kind": venue.kind, "label": seal(venue.label, context, LABEL),
            "address": seal(address, context, ADDRESS) if address else None, "municipality": venue.municipality,
            "region": venue.region, "organisation": venue.organisation,
            "registered_on": venue.registered_on.isoformat(), "linked_clusters": [], "score": 0.0,
            "concern": None, "last_visited_on": None}


def venue_label(doc: dict, unseal) -> str:
    return unseal(doc["label"], f"venue/{doc['_id']}", LABEL)


def venue_address(doc: dict, unseal) -> str | None:
    return unseal(doc["address"], f"venue/{doc['_id']}", ADDRESS) if doc.get("address") else None


def note_text(note_id: str, text: str | None, seal) -> str | None:
    return seal(text, f"inspection/{note_id}", NOTE) if text else None


def visit_record(record) -> dict:
    return {"people_met": dict(record.people_met), "people_met_total": record.people_met_total,
            "materials": list(record.materials), "health_services": list(record.health_services),
            "identification_talk": record.identification_talk, "indicators": list(record.indicators),
            "screening_outcome": record.screening_outcome, "follow_up_needed": record.follow_up_needed}
