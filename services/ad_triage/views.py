"""Plain, JSON-ready views for RPC answers (snake_case keys; the gateway camel-cases them).

Views show masked text and pseudonymous ids only; an ad view lists contact kinds and facts, never a pseudonym,
because outreach staff need "an obscured phone number", not a linkable token; a cluster view counts its contacts.
"""
from __future__ import annotations

from kit.storage import utc


def iso(moment) -> str | None:
    return None if moment is None else utc(moment).isoformat()


def queue_view(queue: dict) -> dict:
    return {"state": queue["state"], "assignee": queue.get("assignee"),
            "history": [{"from_state": m["from_state"], "to_state": m["to_state"], "actor": m["actor"],
                         "at": iso(m["at"]), "reason": m["reason"]} for m in queue.get("history", ())]}


def score_view(score: dict | None) -> dict | None:
    if score is None:
        return None
    return {"value": score["value"], "priority": score["priority"], "ruleset_version": score["ruleset_version"],
            "fired": [{"indicator_id": f["indicator_id"], "weight": f["weight"], "rationale": f["rationale"],
                       "evidence": dict(f["evidence"])} for f in score["fired"]]}


def queue_entry_view(doc: dict) -> dict:
    score = doc.get("score") or {}
    return {"ad_key": doc["_id"], "platform": doc["platform"], "title": doc["title"], "city": doc.get("city"),
            "score": score.get("value"), "priority": score.get("priority"),
            "ruleset_version": score.get("ruleset_version"), "last_seen": iso(doc["last_seen"]),
            "cluster_id": doc.get("cluster_id"), "cluster_size": doc.get("cluster_size"),
            "state": doc["queue"]["state"], "assignee": doc["queue"].get("assignee")}


def ad_view(doc: dict) -> dict:
    price = doc.get("price")
    return {
        "ad_key": doc["_id"], "platform": doc["platform"], "ad_id": doc["ad_id"], "url": doc["url"],
        "title": doc["title"], "text": doc["text"], "language": doc["language"], "location": doc["location"],
        "city": doc.get("city"), "first_seen": iso(doc["first_seen"]), "last_seen": iso(doc["last_seen"]),
        "price_amount": price["amount"] if price else None, "price_currency": price["currency"] if price else None,
        "image_hash_count": len(doc.get("image_hashes", ())),
        "contacts": [{"kind": c["kind"], "obfuscated": c["obfuscated"], "valid": c["valid"], "region": c["region"]}
                     for c in doc["contacts"]],
        "sightings": [{"via": s["via"], "at": iso(s["at"]), "first_seen": iso(s["first_seen"]),
                       "last_seen": iso(s["last_seen"])} for s in doc.get("sightings", ())],
        "cluster_id": doc.get("cluster_id"), "cluster_size": doc.get("cluster_size"),
        "score": score_view(doc.get("score")), "flagged_versions": list(doc.get("flagged_versions", ())),
        "queue": queue_view(doc["queue"]),
    }


def cluster_view(doc: dict, members: list[dict]) -> dict:
    return {"cluster_id": doc["_id"], "ad_count": doc["ad_count"], "cities": doc["cities"],
            "platforms": doc["platforms"], "first_seen": iso(doc["first_seen"]), "last_seen": iso(doc["last_seen"]),
            # how many contacts, and the widest spread: never which ones (no pseudonym leaves the service)
            "contact_count": len(doc["contact_spread"]), "max_contact_spread": doc["max_contact_spread"],
            "ads": [queue_entry_view(m) for m in members]}


def quarantine_view(doc: dict) -> dict:
    hint = doc.get("hint") or {}
    return {"quarantine_id": doc["_id"], "status": doc["status"], "via": doc["via"], "line": doc.get("line"),
            "format": doc["format"], "reasons": doc["reasons"], "platform": hint.get("platform"),
            "ad_id": hint.get("ad_id"), "received_at": iso(doc["received_at"]), "attempts": doc.get("attempts", 1),
            "ad_key": doc.get("ad_key")}


def outcomes_view(versions) -> dict:
    """Per-version outreach figures (domain.labels.VersionOutcomes), oldest version first."""
    return {"versions": [{"ruleset_version": v.ruleset_version, "flagged_clusters": v.flagged_clusters,
                          "reached_clusters": v.reached_clusters,
                          "identification_talk_clusters": v.identification_talk_clusters, "attempts": v.attempts}
                         for v in versions]}
