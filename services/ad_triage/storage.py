"""The ad triage service's own MongoDB database: ads (with score, cluster and queue state), clusters, quarantine.

Writes are batched: one transaction per import chunk, one bulk write per collection, so throughput is bound by the
domain's CPU work rather than by round trips. The in-memory linking state and the ingest lock live here, once per
process, because every worker must see the same clusters.
"""
from __future__ import annotations

import threading
from datetime import datetime, timezone
from typing import Callable, TypeVar

from pymongo import ASCENDING, DESCENDING, UpdateOne

from kit.fieldcrypt import FieldCipher
from kit.mongo import in_transaction
from kit.pseudonym import Pseudonymiser
from services.ad_triage import rulesets
from services.ad_triage.network import REBUILD_FIELDS, Network

T = TypeVar("T")
PURPOSE = "ad-linkage"
ADS, CLUSTERS, QUARANTINE, CONFIG = "ads", "clusters", "quarantine", "config"


class AdTriageStore:
    def __init__(self, client, db, outbox, settings) -> None:
        self.client, self.db, self.outbox, self.settings = client, db, outbox, settings
        self.cipher = FieldCipher(settings.require("notes_key"))
        self.pseudonymise = Pseudonymiser(settings.require("pseudonym_key")).for_purpose(PURPOSE)
        self.network = Network()
        # ingestion and rescoring change the shared linking state: one at a time per process (green lock)
        self.lock = threading.RLock()

    def setup(self) -> None:
        self.db[ADS].create_index([("score.value_milli", DESCENDING), ("last_seen", DESCENDING)])
        self.db[ADS].create_index([("cluster_id", ASCENDING)])
        self.db[ADS].create_index([("queue.state", ASCENDING)])
        self.db[QUARANTINE].create_index([("status", ASCENDING), ("received_at", ASCENDING)])
        self.network.rebuild(self.db[ADS].find({}, REBUILD_FIELDS))

    # -- transactions and events -----------------------------------------------------------------------------------
    def transaction(self, work: Callable[[object], T]) -> T:
        return in_transaction(self.client, work)

    def emit_many(self, session, events: list[tuple[str, str, dict]]) -> None:
        """Stage many events with one insert inside the caller's transaction."""
        self.outbox.add_many(session, events)

    # -- rule set ----------------------------------------------------------------------------------------------------
    def active_ruleset(self, session=None) -> str:
        doc = self.db[CONFIG].find_one({"_id": "ruleset"}, session=session)
        return doc["version"] if doc else rulesets.configured_default()

    def set_active_ruleset(self, session, version: str, actor: str) -> None:
        self.db[CONFIG].replace_one({"_id": "ruleset"}, {"_id": "ruleset", "version": version, "actor": actor,
                                                          "at": datetime.now(timezone.utc)},
                                    upsert=True, session=session)

    # -- ads -------------------------------------------------------------------------------------------------------
    def ads_by_id(self, ids, session=None, projection=None) -> dict[str, dict]:
        ids = list(ids)
        if not ids:
            return {}
        return {d["_id"]: d for d in self.db[ADS].find({"_id": {"$in": ids}}, projection, session=session)}

    def all_ads(self, projection=None, session=None):
        return self.db[ADS].find({}, projection, session=session)

    def write_ads(self, session, updates: list) -> None:
        if updates:
            self.db[ADS].bulk_write(updates, ordered=True, session=session)

    def ad(self, ad_id: str, projection=None, session=None) -> dict | None:
        return self.db[ADS].find_one({"_id": ad_id}, projection, session=session)

    def set_queue(self, session, ad_id: str, expected_version: int, queue: dict) -> bool:
        result = self.db[ADS].update_one({"_id": ad_id, "queue.version": expected_version},
                                         {"$set": {"queue": queue}}, session=session)
        return result.matched_count == 1

    def find_ads(self, query: dict, sort, offset: int, limit: int, projection=None) -> tuple[int, list[dict]]:
        total = self.db[ADS].count_documents(query)
        docs = list(self.db[ADS].find(query, projection).sort(sort).skip(offset).limit(limit))
        return total, docs

    # -- clusters --------------------------------------------------------------------------------------------------
    def write_clusters(self, session, docs: list[dict], stale: set[str]) -> None:
        if docs:
            self.db[CLUSTERS].bulk_write([UpdateOne({"_id": d["_id"]}, {"$set": d}, upsert=True) for d in docs],
                                         ordered=False, session=session)
        if stale:
            self.db[CLUSTERS].delete_many({"_id": {"$in": sorted(stale)}}, session=session)

    def cluster(self, cluster_id: str) -> dict | None:
        return self.db[CLUSTERS].find_one({"_id": cluster_id})

    def cluster_members(self, cluster_id: str, projection=None) -> list[dict]:
        return list(self.db[ADS].find({"cluster_id": cluster_id}, projection).sort("_id", ASCENDING))

    # -- quarantine ------------------------------------------------------------------------------------------------
    def add_quarantined(self, session, docs: list[dict]) -> None:
        # ids derive from the request and line, so a redelivered request overwrites rather than duplicates
        if docs:
            self.db[QUARANTINE].bulk_write([UpdateOne({"_id": d["_id"]}, {"$setOnInsert": d}, upsert=True)
                                            for d in docs], ordered=False, session=session)

    def quarantined(self, qid: str, session=None) -> dict | None:
        return self.db[QUARANTINE].find_one({"_id": qid}, session=session)

    def update_quarantined(self, session, qid: str, changes: dict) -> None:
        self.db[QUARANTINE].update_one({"_id": qid}, {"$set": changes}, session=session)

    def list_quarantined(self, status: str | None, offset: int, limit: int) -> tuple[int, list[dict]]:
        query = {} if status is None else {"status": status}
        total = self.db[QUARANTINE].count_documents(query)
        docs = self.db[QUARANTINE].find(query, {"raw": 0}).sort([("received_at", ASCENDING), ("_id", ASCENDING)])
        return total, list(docs.skip(offset).limit(limit))
