"""Stored documents → answers (snake_case dicts the gateway turns into GraphQL types). Answers to a screening's
questions and an override's reason are never in these: they are read only through their own queries."""
from __future__ import annotations


def screening(doc: dict) -> dict:
    scoring = doc["scoring"]
    return {"screening_id": doc["_id"], "organisation": doc["organisation"], "screened_on": doc["screened_on"],
            "recorded_at": doc["recorded_at"], "context": dict(doc["context"]), "person": dict(doc["person"]),
            "instrument": doc["instrument"], "instrument_version": doc["version"],
            "outcome": scoring["outcome"], "rule": scoring["rule"], "explanation": list(scoring["explanation"]),
            "dimensions": [{"dimension": k, "positive": v} for k, v in sorted(scoring["dimensions"].items())],
            "fired": [dict(f) for f in scoring["fired"]], "methods_of_control": list(scoring["methods_of_control"]),
            "identification_talk": doc["identification_talk"], "talk_held_on": doc.get("talk_held_on"),
            "consent": consent(doc), "escalated": list(doc["escalated"])}


def consent(doc: dict) -> dict:
    return {"screening_id": doc["_id"], "in_force": [dict(p) for p in doc["consent"]["scope"]],
            "version": doc["consent"]["version"]}


def consent_change(doc: dict) -> dict:
    return {"kind": doc["kind"], "changed": [dict(p) for p in doc["changed"]],
            "in_force": [dict(p) for p in doc["in_force"]], "legal_basis": doc["legal_basis"], "by": doc["by"],
            "role": doc["role"], "organisation": doc["organisation"], "at": doc["at"], "version": doc["version"]}


def inspection(doc: dict) -> dict:
    return {"inspection_id": doc["_id"], "organisation": doc["organisation"], "inspected_on": doc["inspected_on"],
            "agencies": list(doc["agencies"]), "sector": doc["sector"], "isic": doc["isic"],
            "municipality": doc["municipality"], "region": doc["region"]}


def referral(doc: dict) -> dict:
    return {"referral_id": doc["_id"], "screening_id": doc["screening_id"], "organisation": doc["organisation"],
            "recipient": doc["recipient"], "purpose": doc["purpose"], "basis": doc["basis"], "state": doc["state"],
            "requested_at": doc["requested_at"], "acknowledge_by": doc["acknowledge_by"],
            "timeline": [dict(t) for t in doc["timeline"]], "decision": doc["decision"],
            "revocation": doc["revocation"], "escalated": list(doc["escalated"])}


def override(doc: dict, reason: str | None) -> dict:
    return {"override_id": doc["_id"], "referral_id": doc["referral_id"], "recipient": doc["recipient"],
            "purpose": doc["purpose"], "by": doc["by"], "role": doc["role"], "organisation": doc["organisation"],
            "at": doc["at"], "reason": reason}


def page(items: list[dict], has_next: bool, cursor) -> dict:
    return {"items": items, "has_next_page": has_next, "end_cursor": cursor}
