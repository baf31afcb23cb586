"""Ingestion use case: accepted ads are merged into their stored history, linked, scored with their clusters and
written with their events in one transaction per batch; rejected ones go to the quarantine in the same one.

The same (platform, adId) seen again extends the ad's sightings and keeps its queue state; the newest observation
(by lastSeen) supplies the content. A sighting is named by its request line or event id, so a redelivered request
or event changes nothing.
"""
from __future__ import annotations

from datetime import datetime, timezone

from pymongo import ReplaceOne, UpdateOne

from services.ad_triage import rulesets
from services.ad_triage.assess import assess
from services.ad_triage.codec import ad_fields, key_string, new_queue_doc, stored_ad, utc
from services.ad_triage.intake import Arrival, Rejection, quarantine_doc, quarantine_id
from services.ad_triage.storage import AdTriageStore

MAX_SIGHTINGS = 100  # the ad keeps its first and latest sightings; older middle ones add nothing to triage
SCORING_FIELDS = {"sightings": 0, "link": 0, "queue": 0}
CONTENT = ("url", "title", "text", "language", "location", "city", "contacts", "price", "image_hashes")


def _merge(doc: dict | None, arrival: Arrival, now: datetime) -> tuple[dict, str]:
    """The ad's new document (without score and cluster) and its status: accepted, updated or unchanged."""
    ad = arrival.ad
    fields = ad_fields(ad)
    sighting = {"ref": arrival.ref, "via": arrival.via, "at": now, "first_seen": ad.first_seen,
                "last_seen": ad.last_seen}
    pseudonyms = [c.pseudonym for c in ad.contacts]
    if doc is None:
        return {"_id": key_string(ad.key), **fields, "link": {"pseudonyms": sorted(set(pseudonyms)), "text": None},
                "sightings": [sighting], "created_at": now}, "accepted"
    if any(s["ref"] == arrival.ref for s in doc.get("sightings", ())):
        return doc, "unchanged"
    merged = dict(doc)
    if ad.last_seen >= utc(doc["last_seen"]):
        merged.update({name: fields[name] for name in CONTENT})
    merged["first_seen"] = min(utc(doc["first_seen"]), ad.first_seen)
    merged["last_seen"] = max(utc(doc["last_seen"]), ad.last_seen)
    link = dict(doc.get("link") or {})
    # linking keeps every contact the ad ever showed and the text of its first signature, so a restart re-links
    link["pseudonyms"] = sorted(set(link.get("pseudonyms") or []) | set(pseudonyms))
    if not link.get("text") and merged["text"] != doc["text"]:
        link["text"] = doc["text"]
    merged["link"] = link
    sightings = list(doc.get("sightings", ())) + [sighting]
    merged["sightings"] = sightings[:1] + sightings[1:][-(MAX_SIGHTINGS - 1):]
    return merged, "updated"


class Ingestion:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def ingest(self, arrivals: list[Arrival], rejections: list[Rejection], *, ref_prefix: str, actor: str,
               via: str, session_runner=None, also=None) -> dict:
        """Store a parsed batch; returns per-record results (in line order) and counts.

        ``session_runner(work)`` runs the transaction (default: the store's); ``also(session)`` adds writes of the
        caller (a quarantine row's resolution) to the same transaction.
        """
        now = datetime.now(timezone.utc)
        quarantined = [(r, quarantine_id(ref_prefix, r.line)) for r in rejections]
        with self.store.lock:
            report = (session_runner or self.store.transaction)(
                lambda session: self._work(session, arrivals, quarantined, actor, via, now, also))
        for cluster_id, members in report.pop("_clusters").items():
            self.store.network.mark_persisted({cluster_id: members})
        results = report.pop("_results") + [
            {"line": r.line, "status": "quarantined", "quarantine_id": qid, "reasons": list(r.reasons)}
            for r, qid in quarantined]
        results.sort(key=lambda r: (r["line"] is None, r["line"] or 0))
        return {**report, "quarantined": len(quarantined), "results": results}

    def _work(self, session, arrivals, quarantined, actor, via, now, also) -> dict:
        store = self.store
        docs = store.ads_by_id({key_string(a.ad.key) for a in arrivals}, session)
        before = dict(docs)
        results, changed = [], set()
        for arrival in arrivals:
            ad_id = key_string(arrival.ad.key)
            merged, status = _merge(docs.get(ad_id), arrival, now)
            results.append({"line": arrival.line, "status": status, "ad_key": ad_id})
            if status != "unchanged":
                docs[ad_id] = merged
                changed.add(arrival.ad.key)
                link = merged["link"]
                store.network.add(stored_ad(merged), link["pseudonyms"], link.get("text") or merged["text"])
        ruleset = rulesets.load(store.active_ruleset(session))
        clusters = store.network.affected(changed)
        members = {k for ms in clusters.values() for k in ms}
        # other members are only rescored: their history and queue state are not read, nor rewritten
        others = store.ads_by_id({key_string(k) for k in members} - set(docs), session, SCORING_FIELDS)
        docs.update(others)
        before.update(others)
        ads = {k: stored_ad(docs[key_string(k)]) for k in members}
        previous = {k: before.get(key_string(k)) for k in members}
        outcomes, cluster_docs = assess(store.network, clusters, ads, previous, ruleset, "linked", changed)
        updates, events, flagged = [], [], 0
        for outcome in outcomes:
            ad_id = key_string(outcome.key)
            state = {"cluster_id": outcome.cluster_id, "cluster_size": outcome.cluster_size,
                     "score": outcome.score, "flagged_versions": outcome.flagged_versions}
            if outcome.key in changed:
                # whole documents: the local MongoDB-wire server turns a top-level datetime in $set into a string
                doc = {"queue": new_queue_doc(), **docs[ad_id], **state, "updated_at": now}
                updates.append(ReplaceOne({"_id": ad_id}, doc, upsert=True))
            elif _differs(before[ad_id], state):
                updates.append(UpdateOne({"_id": ad_id}, {"$set": state}))
            for event_type, data in outcome.events:
                events.append((event_type, ad_id, data))
                flagged += event_type.endswith(".flagged")
        store.write_ads(session, updates)
        store.emit_many(session, events)
        store.write_clusters(session, cluster_docs, store.network.stale_clusters(clusters))
        store.add_quarantined(session, [quarantine_doc(r, qid, via, actor, store.cipher, now)
                                        for r, qid in quarantined])
        if also is not None:
            also(session)
        return {"accepted": sum(r["status"] == "accepted" for r in results),
                "updated": sum(r["status"] == "updated" for r in results),
                "unchanged": sum(r["status"] == "unchanged" for r in results),
                "flagged": flagged, "_results": results, "_clusters": clusters}


def _differs(doc: dict, state: dict) -> bool:
    return any(doc.get(k) != state[k] for k in ("cluster_id", "cluster_size", "score", "flagged_versions"))
