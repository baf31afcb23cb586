"""Plain, JSON-ready views for RPC answers (snake_case keys; the gateway camel-cases them).

Views show masked text and pseudonymous ids only; an ad view lists contact kinds and facts, never a pseudonym,
because outreach staff need "an obscured phone number", not a linkable token; a cluster view counts its contacts.
"""
from __future__ import annotations

from kit.storage import utc
from services.ad_triage.codec import fired_rationale


def iso(moment) -> str | None:
    return None if moment is None else utc(moment).isoformat()


def queue_view(queue: dict) -> dict:
    return {"state": queue["state"], "assignee": queue.get("assignee"), "version": queue.get("version", 0),
            "history": [{"from_state": m["from_state"], "to_state": m["to_state"], "actor": m["actor"],
                         "at": iso(m["at"]), "reason": m["reason"]} for m in queue.get("history", ())]}


def score_view(score: dict | None) -> dict | None:
    if score is None:
        return None
    return {"value": score["value"], "priority": score["priority"], "ruleset_version": score["ruleset_version"],
            "fired": [{"indicator_id": f["indicator_id"], "weight": f["weight"],
                       "rationale": fired_rationale(score, f), "evidence": dict(f["evidence"])}
                      for f in score["fired"]]}


def member_view(doc: dict) -> dict:
    """An ad as a member of its cluster: its own score (without the cluster's network signals)."""
    score = doc.get("score") or {}
    return {"ad_key": doc["_id"], "platform": doc["platform"], "title": doc["title"], "city": doc.get("city"),
            "score": score.get("value"), "priority": score.get("priority"),
            "ruleset_version": score.get("ruleset_version"), "last_seen": iso(doc["last_seen"]),
            "cluster_id": doc.get("cluster_id")}


def queue_row_view(row: dict) -> dict:
    """A queue item: one cluster, with its best evidence (the fired indicators of its score), cities, platforms."""
    return {"cluster_id": row["cluster_id"], "score": row["score"], "priority": row["priority"],
            "ruleset_version": row["ruleset_version"], "ad_count": row["ad_count"], "cities": row["cities"],
            "platforms": row["platforms"], "first_seen": iso(row["first_seen"]), "last_seen": iso(row["last_seen"]),
            "max_contact_spread": row["max_contact_spread"], "best_ad_key": row["best_ad_key"],
            "evidence": [{"indicator_id": e["indicator_id"], "weight": e["weight"], "evidence": dict(e["evidence"])}
                         for e in row["evidence"]],
            "state": row["state"], "assignee": row.get("assignee")}


def ad_view(doc: dict) -> dict:
    price = doc.get("price")
    return {
        "ad_key": doc["_id"], "platform": doc["platform"], "ad_id": doc["ad_id"], "url": doc["url"],
        "title": doc["title"], "text": doc["text"], "language": doc["language"], "location": doc["location"],
        "city": doc.get("city"), "first_seen": iso(doc["first_seen"]), "last_seen": iso(doc["last_seen"]),
        "price_amount": price["amount"] if price else None, "price_currency": price["currency"] if price else None,
        "image_hash_count": len(doc.get("image_hashes", ())),
        "contacts": [{"kind": c["kind"], "obfuscated": c["obfuscated"], "valid": c["valid"], "region": c["region"],
                      "source": c.get("source", "field")} for c in doc["contacts"]],
        "sightings": [{"via": s["via"], "at": iso(s["at"]), "first_seen": iso(s["first_seen"]),
                       "last_seen": iso(s["last_seen"])} for s in doc.get("sightings", ())],
        "cluster_id": doc.get("cluster_id"), "score": score_view(doc.get("score")),
    }


def ad_with_cluster_view(doc: dict, cluster: dict | None) -> dict:
    """An ad with the figures of its cluster: size, the cluster's flags and its queue item."""
    view = ad_view(doc)
    view["cluster_size"] = cluster["ad_count"] if cluster else None
    view["flagged_versions"] = list(cluster.get("flagged_versions", ())) if cluster else []
    view["queue"] = queue_view(cluster["queue"]) if cluster else None
    return view


def cluster_view(doc: dict, members: list[dict]) -> dict:
    score = doc.get("score")
    return {"cluster_id": doc["_id"], "ad_count": doc["ad_count"], "cities": doc["cities"],
            "platforms": doc["platforms"], "first_seen": iso(doc["first_seen"]), "last_seen": iso(doc["last_seen"]),
            # how many contacts, and the widest spread: never which ones (no pseudonym leaves the service)
            "contact_count": doc.get("contact_count", 0), "max_contact_spread": doc["max_contact_spread"],
            "score": score_view(score), "best_ad_key": (doc.get("best") or {}).get("ad_key"),
            "flagged_versions": list(doc.get("flagged_versions", ())), "queue": queue_view(doc["queue"]),
            "ads": [member_view(m) for m in members]}


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
