"""Mapping between the domain's stored ad, score and queue item and MongoDB documents (and event data).

Only the StoredAd shape is ever encoded: pseudonymous contacts and masked text. The raw Ad has no encoder here on
purpose, so no code path can write a contact value by accident.
"""
from __future__ import annotations

from datetime import datetime, timezone

from services.ad_triage.domain.contacts import PseudoContact
from services.ad_triage.domain.places import canonical_city
from services.ad_triage.domain.records import Price
from services.ad_triage.domain.scoring import FeatureEvidence, Score
from services.ad_triage.domain.stored import StoredAd
from services.ad_triage.domain.triage import Move, QueueItem


def utc(moment: datetime) -> datetime:
    # the MongoDB-wire server may hand back naive datetimes; every stored time is UTC
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def key_string(key: tuple[str, str]) -> str:
    """The ad key as one string (ids, event subjects): ingestion refuses platforms containing '/'."""
    return f"{key[0]}/{key[1]}"


def key_tuple(key: str) -> tuple[str, str]:
    platform, _, ad_id = key.partition("/")
    return platform, ad_id


def contact_doc(c: PseudoContact) -> dict:
    return {"kind": c.kind, "pseudonym": c.pseudonym, "obfuscated": c.obfuscated, "valid": c.valid,
            "calling_code": c.calling_code, "region": c.region, "area": c.area}


def ad_fields(ad: StoredAd) -> dict:
    """The ad's own fields as stored; history, scores, cluster and queue are kept beside them."""
    return {
        "platform": ad.platform, "ad_id": ad.ad_id, "url": ad.url, "first_seen": ad.first_seen,
        "last_seen": ad.last_seen, "title": ad.title, "text": ad.text, "language": ad.language,
        "location": ad.location, "city": canonical_city(ad.location),
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


def observed_data(ad: StoredAd, observed_at: datetime, connector: str) -> dict:
    """Event data of ad_triage.ad.observed: the stored shape, in the contract's camelCase."""
    return {
        "platform": ad.platform, "adId": ad.ad_id, "url": ad.url, "firstSeen": ad.first_seen.isoformat(),
        "lastSeen": ad.last_seen.isoformat(), "title": ad.title, "text": ad.text, "language": ad.language,
        "location": ad.location,
        "contacts": [{"kind": c.kind, "pseudonym": c.pseudonym, "obfuscated": c.obfuscated, "valid": c.valid,
                      "callingCode": c.calling_code, "region": c.region, "area": c.area} for c in ad.contacts],
        "price": None if ad.price is None else {"amount": ad.price.amount, "currency": ad.price.currency},
        "imageHashes": list(ad.image_hashes), "observedAt": observed_at.isoformat(), "connector": connector,
    }


def stored_from_observed(data: dict) -> StoredAd:
    price = data.get("price")
    return StoredAd(
        platform=data["platform"], ad_id=data["adId"], url=data["url"],
        first_seen=datetime.fromisoformat(data["firstSeen"]), last_seen=datetime.fromisoformat(data["lastSeen"]),
        title=data["title"], text=data["text"], language=data["language"], location=data["location"],
        contacts=tuple(PseudoContact(c["kind"], c["pseudonym"], c["obfuscated"], c["valid"], c["callingCode"],
                                     c["region"], c["area"]) for c in data["contacts"]),
        price=Price(price["amount"], price["currency"]) if price else None,
        image_hashes=tuple(data["imageHashes"]),
    )
