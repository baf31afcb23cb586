"""Mapping between the domain's stored ad, score, queue item, cluster and quarantined record and MongoDB documents.

Only the StoredAd shape is ever encoded: pseudonymous contacts and masked text. The raw Ad has no encoder here on
purpose, so no code path can write a contact value by accident.
"""
from __future__ import annotations

from datetime import datetime

from kit.fieldcrypt import FieldCipher
from kit.storage import utc
from services.ad_triage.domain.arrivals import Rejection, hint
from services.ad_triage.domain.cluster_state import BestAd, ClusterState
from services.ad_triage.domain.contacts import PseudoContact
from services.ad_triage.domain.places import known_city
from services.ad_triage.domain.records import Price
from services.ad_triage.domain.ruleset import rationale
from services.ad_triage.domain.scoring import FeatureEvidence, Fired, PatternEvidence, Score
from services.ad_triage.domain.stored import StoredAd
from services.ad_triage.domain.triage import Move, QueueItem, merged_queue


def contact_doc(c: PseudoContact) -> dict:
    return {"kind": c.kind, "pseudonym": c.pseudonym, "obfuscated": c.obfuscated, "valid": c.valid,
            "calling_code": c.calling_code, "region": c.region, "area": c.area,
            "source": c.source}


def ad_fields(ad: StoredAd) -> dict:
    """The ad's own fields as stored; history, scores, cluster and queue are kept beside them."""
    return {
        "platform": ad.platform, "ad_id": ad.ad_id, "url": ad.url, "first_seen": ad.first_seen,
        "last_seen": ad.last_seen, "title": ad.title, "text": ad.text, "language": ad.language,
        "location": ad.location, "city": known_city(ad.location),
        "contacts": [contact_doc(c) for c in ad.contacts],
        "price": None if ad.price is None else {"amount": ad.price.amount, "currency": ad.price.currency},
        "image_hashes": list(ad.image_hashes),
    }


def stored_ad(doc: dict) -> StoredAd:
    price = doc.get("price")
    return StoredAd(
        platform=doc["platform"], ad_id=doc["ad_id"], url=doc["url"], first_seen=utc(doc["first_seen"]),
        last_seen=utc(doc["last_seen"]), title=doc["title"], text=doc["text"], language=doc["language"],
        location=doc["location"],
        contacts=tuple(_pseudo_contact(c) for c in doc["contacts"]),
        price=Price(price["amount"], price["currency"]) if price else None,
        image_hashes=tuple(doc.get("image_hashes", ())),
    )


def _pseudo_contact(c: dict) -> PseudoContact:
    return PseudoContact(c["kind"], c["pseudonym"], c["obfuscated"], c["valid"], c.get("calling_code"),
                         c.get("region"), c.get("area"), c.get("source", "field"))


def score_doc(s: Score) -> dict:
    fired = []
    for f in s.fired:
        ev = f.evidence
        evidence = ({"kind": "feature", "feature": ev.feature, "value": ev.value} if isinstance(ev, FeatureEvidence)
                    else {"kind": "pattern", "field": ev.field, "start": ev.start, "end": ev.end,
                          "snippet": ev.snippet})
        # no rationale: it is the rule set's text (ruleset.rationale); copied, it was a seventh of an ad's document
        fired.append({"indicator_id": f.indicator_id, "weight": f.weight, "evidence": evidence})
    return {"value": s.value, "value_milli": s.value_milli, "priority": s.priority,
            "ruleset_version": s.ruleset_version, "fired": fired}


def score_from_doc(doc: dict) -> Score:
    fired = []
    for f in doc["fired"]:
        ev = f["evidence"]
        evidence = (FeatureEvidence(ev["feature"], ev["value"]) if ev["kind"] == "feature"
                    else PatternEvidence(ev["field"], ev["start"], ev["end"], ev["snippet"]))
        fired.append(Fired(f["indicator_id"], f["weight"], evidence, fired_rationale(doc, f)))
    return Score(doc["value"], doc["priority"], doc["ruleset_version"], tuple(fired))


def fired_rationale(score: dict, fired: dict) -> str:
    """A stored indicator's rationale: kept on scores stored before it was left out, else the rule set's."""
    return fired.get("rationale") or rationale(score["ruleset_version"], fired["indicator_id"])


def new_queue_doc() -> dict:
    return {"state": "new", "assignee": None, "history": [], "version": 0}


def queue_item(cluster_id: str, doc: dict) -> QueueItem:
    return QueueItem(cluster_id, doc["state"], doc.get("assignee"),
                     tuple(Move(m["from_state"], m["to_state"], m["actor"], utc(m["at"]), m["reason"])
                           for m in doc.get("history", ())))


def queue_doc(item: QueueItem, version: int) -> dict:
    return {"state": item.state, "assignee": item.assignee, "version": version,
            "history": [{"from_state": m.from_state, "to_state": m.to_state, "actor": m.actor, "at": m.at,
                         "reason": m.reason} for m in item.history]}


MAX_QUEUE_HISTORY = 100  # moves kept on a merged cluster's item (the newest)


def merge_queue_docs(a: dict | None, b: dict | None) -> dict | None:
    """triage.merged_queue over stored queue documents."""
    if a is None or b is None:
        return a or b
    item = merged_queue(queue_item("", a), queue_item("", b))
    return queue_doc(item, max(a.get("version", 0), b.get("version", 0)) + 1) | {
        "history": queue_doc(item, 0)["history"][-MAX_QUEUE_HISTORY:]}


def best_doc(best: BestAd | None) -> dict | None:
    if best is None:
        return None
    return {"ad_key": best.ad_id, "score_milli": best.score_milli, "last_seen": best.last_seen,
            "ruleset_version": best.ruleset_version, "city": best.city, "score": best.evidence}


def best_ad(doc: dict | None) -> BestAd | None:
    if not doc:
        return None
    return BestAd(doc["ad_key"], doc["score_milli"], utc(doc["last_seen"]), doc["ruleset_version"], doc.get("city"),
                  doc.get("score"))


def own_best(ad_id: str, score: dict, last_seen, city: str | None) -> BestAd:
    """A member as a candidate best ad, from its stored own score."""
    return BestAd(ad_id, score["value_milli"], utc(last_seen), score["ruleset_version"], city, score)


def cluster_state(doc: dict) -> ClusterState:
    return ClusterState(
        cluster_id=doc["_id"], min_key=tuple(doc["min_key"]), size=doc["ad_count"], cities=set(doc["cities"]),
        platforms=set(doc["platforms"]), first_seen=utc(doc["first_seen"]), last_seen=utc(doc["last_seen"]),
        contacts=doc.get("contact_count", 0), max_spread=doc.get("max_contact_spread", 0),
        best=best_ad(doc.get("best")), flagged_versions=list(doc.get("flagged_versions", ())),
        announced=[list(r) for r in doc.get("announced", ())], queue=doc.get("queue") or new_queue_doc(),
        previous=doc.get("score"))


def cluster_doc(state: ClusterState, score: Score | None, position: str | None, views: list[str], at) -> dict:
    """The stored cluster: its facts, its score (best ad's own score plus network signals) and where its queue rows
    are (``position`` in the ``views``), so the next change can remove them without a search."""
    return {"_id": state.cluster_id, "min_key": list(state.min_key), "ad_count": state.size,
            "cities": sorted(state.cities), "platforms": sorted(state.platforms), "first_seen": state.first_seen,
            "last_seen": state.last_seen, "contact_count": state.contacts, "max_contact_spread": state.max_spread,
            "best": best_doc(state.best), "flagged_versions": list(state.flagged_versions),
            "announced": [list(r) for r in state.announced], "queue": state.queue or new_queue_doc(),
            "score": None if score is None else score_doc(score), "position": position, "views": list(views),
            "updated_at": at}


def queue_row(cluster: dict) -> dict:
    """One row of the queue read model: what a page shows of a cluster, so a page is one read."""
    score, best = cluster["score"], cluster["best"] or {}
    return {"_id": cluster["position"], "cluster_id": cluster["_id"], "score": score["value"],
            "priority": score["priority"], "ruleset_version": score["ruleset_version"],
            "ad_count": cluster["ad_count"], "cities": cluster["cities"], "platforms": cluster["platforms"],
            "first_seen": cluster["first_seen"], "last_seen": cluster["last_seen"],
            "max_contact_spread": cluster["max_contact_spread"], "best_ad_key": best.get("ad_key"),
            "evidence": [{"indicator_id": f["indicator_id"], "weight": f["weight"],
                          "evidence": dict(f["evidence"])} for f in score["fired"]],
            "state": cluster["queue"]["state"], "assignee": cluster["queue"].get("assignee")}


RAW_FIELD = "raw"  # bound in the ciphertext's associated data with the row (kit.fieldcrypt)


def _raw_context(qid: str) -> str:
    return f"ad_triage/quarantine/{qid}"  # binds the ciphertext to its row: it cannot be moved to another


def encrypt_raw(raw: str, qid: str, cipher: FieldCipher) -> str:
    return cipher.encrypt(raw, _raw_context(qid), RAW_FIELD)


def decrypt_raw(doc: dict, cipher: FieldCipher) -> str:
    return cipher.decrypt(doc["raw"], _raw_context(doc["_id"]), RAW_FIELD)


def quarantine_doc(rejection: Rejection, qid: str, via: str, actor: str, cipher: FieldCipher,
                   now: datetime) -> dict:
    return {"_id": qid, "status": "open", "via": via, "line": rejection.line, "format": rejection.format,
            "reasons": list(rejection.reasons), "raw": encrypt_raw(rejection.raw, qid, cipher),
            "hint": hint(rejection.raw, rejection.format), "received_at": now, "actor": actor, "attempts": 1}
