"""Mapping between the domain's stored ad, score, queue item, cluster and quarantined record and MongoDB documents.

Only the StoredAd shape is ever encoded: pseudonymous contacts and masked text. The raw Ad has no encoder here on
purpose, so no code path can write a contact value by accident.
"""
from __future__ import annotations

from datetime import datetime

from kit.fieldcrypt import FieldCipher
from kit.storage import utc
from services.ad_triage.domain.arrivals import Rejection, hint
from services.ad_triage.domain.clusters import ClusterSummary, LinkedAd
from services.ad_triage.domain.contacts import PseudoContact
from services.ad_triage.domain.places import known_city
from services.ad_triage.domain.records import Price
from services.ad_triage.domain.scoring import FeatureEvidence, Score
from services.ad_triage.domain.stored import StoredAd
from services.ad_triage.domain.triage import Move, QueueItem


def contact_doc(c: PseudoContact) -> dict:
    return {"kind": c.kind, "pseudonym": c.pseudonym, "obfuscated": c.obfuscated, "valid": c.valid,
            "calling_code": c.calling_code, "region": c.region, "area": c.area}


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
        contacts=tuple(PseudoContact(c["kind"], c["pseudonym"], c["obfuscated"], c["valid"], c.get("calling_code"),
                                     c.get("region"), c.get("area")) for c in doc["contacts"]),
        price=Price(price["amount"], price["currency"]) if price else None,
        image_hashes=tuple(doc.get("image_hashes", ())),
    )


def score_doc(s: Score) -> dict:
    fired = []
    for f in s.fired:
        ev = f.evidence
        evidence = ({"kind": "feature", "feature": ev.feature, "value": ev.value} if isinstance(ev, FeatureEvidence)
                    else {"kind": "pattern", "field": ev.field, "start": ev.start, "end": ev.end,
                          "snippet": ev.snippet})
        fired.append({"indicator_id": f.indicator_id, "weight": f.weight, "rationale": f.rationale,
                      "evidence": evidence})
    return {"value": s.value, "value_milli": s.value_milli, "priority": s.priority,
            "ruleset_version": s.ruleset_version, "fired": fired}


def new_queue_doc() -> dict:
    return {"state": "new", "assignee": None, "history": [], "version": 0}


def queue_item(key: tuple[str, str], doc: dict) -> QueueItem:
    return QueueItem(key, doc["state"], doc.get("assignee"),
                     tuple(Move(m["from_state"], m["to_state"], m["actor"], utc(m["at"]), m["reason"])
                           for m in doc.get("history", ())))


def queue_doc(item: QueueItem, version: int) -> dict:
    return {"state": item.state, "assignee": item.assignee, "version": version,
            "history": [{"from_state": m.from_state, "to_state": m.to_state, "actor": m.actor, "at": m.at,
                         "reason": m.reason} for m in item.history]}


def cluster_doc(summary: ClusterSummary) -> dict:
    spread = [{"pseudonym": p, "cities": n} for p, n in summary.contact_spread]
    return {"_id": summary.cluster_id, "ad_count": summary.ad_count, "cities": list(summary.cities),
            "platforms": list(summary.platforms), "first_seen": summary.first_seen,
            "last_seen": summary.last_seen, "contact_spread": spread,
            "max_contact_spread": max((s["cities"] for s in spread), default=0)}


# whole sub-documents: the MongoDB-wire server used locally ignores dotted projections
LINKING_FIELDS = {"platform": 1, "ad_id": 1, "location": 1, "first_seen": 1, "last_seen": 1, "contacts": 1,
                  "text": 1, "link": 1}


def linking_input(doc: dict) -> tuple[LinkedAd, list[str], str]:
    """What the network needs of a stored ad (projected with LINKING_FIELDS): its facts, every contact pseudonym it
    ever showed and the text of its first signature."""
    link = doc.get("link") or {}
    current = tuple(c["pseudonym"] for c in doc["contacts"])
    linked = LinkedAd((doc["platform"], doc["ad_id"]), doc["location"], doc["platform"], utc(doc["first_seen"]),
                      utc(doc["last_seen"]), current)
    return linked, list(link.get("pseudonyms") or current), link.get("text") or doc["text"]


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
