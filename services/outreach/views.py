"""Documents → JSON-ready answers (snake_case; the gateway camel-cases them). No view carries a follow-up code's
hash, and the address only in ``address_view``."""
from __future__ import annotations

from services.outreach.domain.concern import Concern, ConcernRules
from services.outreach.domain.geography import Geography

MAX_AD_KEYS = 50


def concern_summary(c: Concern) -> dict:
    return {"score": c.score, "level": c.level, "of_concern": c.of_concern, "ruleset_version": c.ruleset_version,
            "computed_on": c.computed_on.isoformat()}


NO_CONCERN = {"score": 0.0, "level": "none", "of_concern": False, "ruleset_version": None, "computed_on": None}


def venue(doc: dict, label: str, next_visit: dict | None = None) -> dict:
    place = Geography.load().municipalities[doc["municipality"]]
    return {"venue_id": doc["_id"], "kind": doc["kind"], "label": label, "municipality": doc["municipality"],
            "municipality_name": place.name, "region": doc["region"], "organisation": doc["organisation"],
            "registered_on": doc["registered_on"], "has_address": bool(doc.get("address")),
            "linked_clusters": list(doc.get("linked_clusters", ())), "concern": doc.get("concern") or NO_CONCERN,
            "next_visit": next_visit, "last_visited_on": doc.get("last_visited_on")}


def address_view(doc: dict, address: str | None) -> dict:
    return {"venue_id": doc["_id"], "address": address}


def explanation(doc: dict, c: Concern, rules: ConcernRules) -> dict:
    return {"venue_id": doc["_id"], **concern_summary(c), "thresholds": [[n, t] for n, t in rules.levels],
            "of_concern_from": rules.of_concern_from,
            "signals": [{"kind": s.kind, "source_id": s.source_id, "on": s.on.isoformat(), "weight": s.weight,
                         "decayed_weight": round(s.decayed, 3), "half_life_days": s.half_life_days,
                         "detail": s.detail} for s in c.contributions]}


def visit(doc: dict) -> dict:
    return {"visit_id": doc["_id"], "venue_id": doc["venue_id"], "team_id": doc["team_id"],
            "organisation": doc["organisation"], "region": doc["region"], "state": doc["state"],
            "due_on": doc.get("due_on"), "cause": doc.get("cause"), "visited_on": doc.get("visited_on"),
            "record": doc.get("record"), "funding": doc.get("funding")}


def visit_brief(doc: dict | None) -> dict | None:
    if doc is None:
        return None
    return {"visit_id": doc["_id"], "due_on": doc.get("due_on"), "team_id": doc["team_id"], "state": doc["state"]}


def task(doc: dict) -> dict:
    return {"task_id": doc["_id"], "cluster_id": doc["cluster_id"], "state": doc["state"],
            "priority": doc["priority"], "score": doc["score"], "ruleset_version": doc.get("ruleset_version"),
            "ad_keys": list(doc.get("ad_keys", ()))[:MAX_AD_KEYS], "ad_count": doc.get("ad_count", 0),
            "cities": list(doc.get("cities", ())), "regions": list(doc.get("regions", ())),
            "opened_at": doc["opened_at"], "updated_at": doc["updated_at"],
            "attempts": list(doc.get("attempts", ())), "closed_reason": doc.get("closed_reason"),
            "merged_into": doc.get("merged_into")}


def contact(doc: dict, code: str | None = None) -> dict:
    return {"contact_id": doc["_id"], "channel": doc["channel"], "outcome": doc["outcome"],
            "reached": doc["reached"], "occurred_on": doc["occurred_on"], "venue_id": doc.get("venue_id"),
            "visit_id": doc.get("visit_id"), "task_id": doc.get("task_id"),
            "follow_up_linked": doc.get("follow_up_id") is not None, "follow_up_code": code}


def page(result: dict, view) -> dict:
    items = [{**view(d), "cursor": c} for d, c in zip(result["docs"], result["cursors"])]
    return {"items": items, "total": result["total"], "end_cursor": items[-1]["cursor"] if items else None,
            "has_next_page": result["has_next_page"]}
