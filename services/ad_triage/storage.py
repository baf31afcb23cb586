"""The ad triage service's own MongoDB database: ads (with score, cluster and queue state), clusters, quarantine,
the published rule set, and the linking version. The only module of the service that touches MongoDB.

Writes are batched: one transaction per import chunk, one bulk write per collection, so throughput is bound by the
domain's CPU work rather than by round trips.

Linking keeps a network in memory (per process: linking is incremental and far too slow to rebuild per request).
It is a cache of the stored ads and never runs ahead of them:
- a ``linking`` version document is read and advanced by every transaction that links or rescores, so such
  transactions are serialised across all instances (two that overlap conflict, and the later one is retried);
- every ad whose linking inputs a transaction changes is stored with that transaction's version, so at the start of
  its next transaction a process catches up by re-adding the ads written since the version it holds;
- a process marks its network dirty before it changes it inside a transaction and clean only once that transaction
  is known to have committed; a dirty network (an abort, a commit of unknown outcome) is rebuilt from the stored ads
  at the start of the next transaction. Start-up rebuilds once.
"""
from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Callable
from typing import TypeVar

from pymongo import ASCENDING, DESCENDING, ReplaceOne, UpdateOne

from kit.fieldcrypt import FieldCipher
from kit.inbox import handle_once
from kit.pseudonym import Pseudonymiser
from kit.storage import Conflict, MongoStore, now
from services.ad_triage.codec import LINKING_FIELDS, linking_input
from services.ad_triage.domain.network import Network
from services.ad_triage.domain.ruleset import default_version

T = TypeVar("T")
PURPOSE = "ad-linkage"
RULESET_SETTING = "AD_TRIAGE_RULESET_VERSION"
ADS, CLUSTERS, QUARANTINE, CONFIG = "ads", "clusters", "quarantine", "config"
LABELS = "outreach_labels"  # one per (cluster, contact): what outreach learnt, for the per-version figures
LINKING = "linking"  # the config document holding the linking version
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"  # names this process in answers about its own memory
CLAIM = "_linking_claim"  # carried in a linking transaction's result, so a replayed result is told from our commit
# highest score, then most recently seen, then largest cluster (domain triage.queue_order_key); the key ends ties
QUEUE_ORDER = [("score.value_milli", DESCENDING), ("last_seen", DESCENDING), ("cluster_size", DESCENDING),
               ("_id", ASCENDING)]
# whole sub-documents: the MongoDB-wire server used locally ignores dotted projections
LIST_FIELDS = {"platform": 1, "title": 1, "city": 1, "score": 1, "last_seen": 1, "cluster_id": 1,
               "cluster_size": 1, "queue": 1}


class LinkingReplica:
    """This process's network and where it stands: the linking version it equals, unless ``dirty``."""

    def __init__(self) -> None:
        self.network = Network()
        self.version = -1
        self.dirty = True  # nothing loaded yet
        self.claim: tuple[str, int] | None = None  # (claim id, version) of the transaction in flight
        self.rebuilds = self.catch_ups = 0  # how often storage was read back: whole, or the ads changed since
        # linking and rescoring change the network: one transaction at a time per process (a green lock)
        self.lock = threading.RLock()


class AdTriageStore(MongoStore):
    def __init__(self, client, db, outbox, settings) -> None:
        super().__init__(client, db, outbox, settings)
        self.cipher = FieldCipher(settings.require("notes_key"))
        self.pseudonymise = Pseudonymiser(settings.require("pseudonym_key")).for_purpose(PURPOSE)
        self.default_ruleset = default_version(os.environ.get(RULESET_SETTING), RULESET_SETTING)
        self.replica = LinkingReplica()

    def setup(self) -> None:
        super().setup()
        self.db[ADS].create_index([("score.value_milli", DESCENDING), ("last_seen", DESCENDING)])
        self.db[ADS].create_index([("cluster_id", ASCENDING)])
        self.db[ADS].create_index([("queue.state", ASCENDING)])
        self.db[ADS].create_index([("link_version", ASCENDING)])
        self.db[ADS].create_index([("flagged_versions", ASCENDING), ("cluster_id", ASCENDING)])
        self.db[LABELS].create_index([("ruleset_version", ASCENDING), ("cluster_id", ASCENDING)])
        self.db[QUARANTINE].create_index([("status", ASCENDING), ("received_at", ASCENDING)])
        self.db[CONFIG].update_one({"_id": LINKING}, {"$setOnInsert": {"version": 0}}, upsert=True)
        with self.replica.lock:
            self.transaction(self._catch_up)

    # -- linking -----------------------------------------------------------------------------------------------------
    def linking_transaction(self, work: Callable[[object, Network, int], dict],
                            runner: Callable[[Callable[[object], dict]], dict] | None = None) -> dict:
        """Run ``work(session, network, version)`` in one transaction with the network caught up to the database
        and the linking version claimed; ads it writes carry ``version``.

        ``runner(attempt)`` runs the transaction (default: ``self.transaction``; also ``run_once`` or
        ``handle_once``, which may answer from an earlier run without calling the attempt).
        """
        replica = self.replica

        def attempt(session) -> dict:
            current = self._catch_up(session)
            claim = uuid.uuid4().hex
            advanced = self.db[CONFIG].update_one({"_id": LINKING, "version": current},
                                                  {"$set": {"version": current + 1, "claim": claim}},
                                                  session=session)
            if advanced.matched_count != 1:
                raise Conflict("the linking version")
            replica.dirty, replica.claim = True, (claim, current + 1)  # from here memory may run ahead of storage
            return {**work(session, replica.network, current + 1), CLAIM: claim}

        with replica.lock:
            try:
                result = (runner or self.transaction)(attempt)
            finally:
                claimed, replica.claim = replica.claim, None
            if claimed is not None and result is not None and result.get(CLAIM) == claimed[0]:
                replica.version, replica.dirty = claimed[1], False  # our attempt is the one that committed
            return {k: v for k, v in (result or {}).items() if k != CLAIM}

    def _catch_up(self, session) -> int:
        """Bring the network to the database as this session sees it; returns that linking version."""
        replica = self.replica
        current = self.db[CONFIG].find_one({"_id": LINKING}, session=session)["version"]
        if not replica.dirty and current == replica.version:
            return current
        if replica.dirty or current < replica.version:
            replica.network, query = Network(), {}
            replica.rebuilds += 1
        else:
            query = {"link_version": {"$gt": replica.version}}
            replica.catch_ups += 1
        for doc in self.db[ADS].find(query, LINKING_FIELDS, session=session):
            replica.network.add(*linking_input(doc))
        replica.version, replica.dirty = current, False
        return current

    def linking_state(self) -> dict:
        """This process's network, caught up (read only): how many ads, clusters, a digest of them, and how often
        this process read storage back (rebuilds after start-up or an abort, catch-ups after other instances)."""
        replica = self.replica
        with replica.lock:
            version = self.transaction(self._catch_up)
            network = replica.network
            return {"instance": INSTANCE, "version": version, "ads_linked": len(network),
                    "clusters": len(network.all_clusters()), "digest": network.digest(),
                    "rebuilds": replica.rebuilds, "catch_ups": replica.catch_ups}

    def ads_linked(self) -> int:
        return len(self.replica.network)

    def ads_with_stale_cluster(self) -> int:
        """Stored ads whose cluster id is not the network's (data written before linking was serialised)."""
        network = self.replica.network
        return sum(network.cluster_of((d["platform"], d["ad_id"])) != d.get("cluster_id")
                   for d in self.db[ADS].find({}, {"platform": 1, "ad_id": 1, "cluster_id": 1}))

    def rebuilt_network(self) -> Network:
        """A network built afresh from the stored ads (the reference the process's network must equal)."""
        network = Network()
        for doc in self.db[ADS].find({}, LINKING_FIELDS):
            network.add(*linking_input(doc))
        return network

    # -- inbox -------------------------------------------------------------------------------------------------------
    def handle_once(self, consumer: str, event: dict, work: Callable[[object], dict]) -> dict | None:
        """Run ``work`` with the event recorded as handled by ``consumer``; None when it was handled before."""
        outcome: dict = {}
        handle_once(self.client, self.db, consumer, event, lambda session: outcome.update(work(session)))
        return outcome or None

    # -- rule set ----------------------------------------------------------------------------------------------------
    def active_ruleset(self, session=None) -> str:
        """The version published last, else the start-up default (AD_TRIAGE_RULESET_VERSION, else the newest)."""
        doc = self.db[CONFIG].find_one({"_id": "ruleset"}, session=session)
        return doc["version"] if doc else self.default_ruleset

    def set_active_ruleset(self, session, version: str, actor: str) -> None:
        self.db[CONFIG].replace_one({"_id": "ruleset"}, {"_id": "ruleset", "version": version, "actor": actor,
                                                          "at": now()}, upsert=True, session=session)

    # -- ads -------------------------------------------------------------------------------------------------------
    def ads_by_id(self, ids, session=None, scoring_only: bool = False) -> dict[str, dict]:
        """Stored ads by id; ``scoring_only`` leaves out what rescoring an ad never reads (history, queue)."""
        ids = list(ids)
        if not ids:
            return {}
        projection = {"sightings": 0, "link": 0, "queue": 0} if scoring_only else None
        return {d["_id"]: d for d in self.db[ADS].find({"_id": {"$in": ids}}, projection, session=session)}

    def all_ads(self, session=None) -> list[dict]:
        return list(self.db[ADS].find({}, {"sightings": 0, "link": 0, "queue": 0}, session=session))

    def save_ads(self, session, whole: list[dict] = (), states: dict[str, dict] | None = None) -> None:
        """Replace ``whole`` documents and set the scoring ``states`` (ad id -> fields) of others, in one write.

        Whole documents because the local MongoDB-wire server turns a top-level datetime in $set into a string.
        """
        updates = [ReplaceOne({"_id": d["_id"]}, d, upsert=True) for d in whole]
        updates += [UpdateOne({"_id": ad_id}, {"$set": state}) for ad_id, state in (states or {}).items()]
        if updates:
            self.db[ADS].bulk_write(updates, ordered=True, session=session)

    def ad(self, ad_id: str, session=None, with_link: bool = True) -> dict | None:
        return self.db[ADS].find_one({"_id": ad_id}, None if with_link else {"link": 0}, session=session)

    def queue_of(self, ad_id: str, session=None) -> dict | None:
        doc = self.db[ADS].find_one({"_id": ad_id}, {"queue": 1}, session=session)
        return None if doc is None else doc["queue"]

    def set_queue(self, session, ad_id: str, expected_version: int, queue: dict) -> bool:
        """Write the queue state if it is still at ``expected_version``; False when someone moved it first."""
        result = self.db[ADS].update_one({"_id": ad_id, "queue.version": expected_version},
                                         {"$set": {"queue": queue}}, session=session)
        return result.matched_count == 1

    def queue_page(self, priorities: list[str], state: str | None, offset: int, limit: int) -> tuple[int, list[dict]]:
        query: dict = {"score.priority": {"$in": priorities}}
        if state:
            query["queue.state"] = state
        total = self.db[ADS].count_documents(query)
        docs = list(self.db[ADS].find(query, LIST_FIELDS).sort(QUEUE_ORDER).skip(offset).limit(limit))
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

    def cluster_members(self, cluster_id: str) -> list[dict]:
        return list(self.db[ADS].find({"cluster_id": cluster_id}, LIST_FIELDS).sort("_id", ASCENDING))

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

    # -- outreach labels -------------------------------------------------------------------------------------------
    # Aggregations only in the forms both MongoDB and the local MongoDB-wire server evaluate: a group key made with
    # $concat (not a sub-document), $first/$max/$sum of plain fields.
    def label(self, label_id: str, session=None) -> dict | None:
        return self.db[LABELS].find_one({"_id": label_id}, session=session)

    def save_label(self, session, doc: dict) -> None:
        self.db[LABELS].replace_one({"_id": doc["_id"]}, doc, upsert=True, session=session)

    def flagged_clusters_per_version(self) -> dict[str, int]:
        """Version -> distinct clusters (the ads' current cluster ids) with at least one ad flagged under it; counted
        in the database (index: flagged_versions, cluster_id)."""
        docs = self.db[ADS].aggregate([{"$match": {"flagged_versions": {"$exists": True, "$ne": []},
                                                   "cluster_id": {"$type": "string"}}},
                                       *_FLAGGED_PAIRS, {"$group": {"_id": "$v", "clusters": {"$sum": 1}}}])
        return {d["_id"]: int(d["clusters"]) for d in docs}

    def flagged_pairs(self, cluster_ids) -> set[tuple[str, str]]:
        """The (version, cluster) pairs the ads show flagged, among the given clusters (index: cluster_id)."""
        cluster_ids = sorted(set(cluster_ids))
        if not cluster_ids:
            return set()
        docs = self.db[ADS].aggregate([{"$match": {"cluster_id": {"$in": cluster_ids}}}, *_FLAGGED_PAIRS])
        return {(d["v"], d["c"]) for d in docs}

    def labelled_clusters(self) -> list[tuple[str, str, bool, bool, int]]:
        """One row per (version, cluster) with labels: (version, cluster, any reached, any talk, attempts). Labels
        without a version count for none."""
        docs = self.db[LABELS].aggregate([
            {"$match": {"ruleset_version": {"$type": "string"}}},
            {"$group": {"_id": {"$concat": ["$ruleset_version", "|", "$cluster_id"]},
                        "v": {"$first": "$ruleset_version"}, "c": {"$first": "$cluster_id"},
                        "reached": {"$max": "$reached"}, "talk": {"$max": "$identification_talk"},
                        "attempts": {"$sum": "$attempts"}}}])
        return [(d["v"], d["c"], bool(d["reached"]), bool(d["talk"]), int(d["attempts"])) for d in docs]


# flagged ads -> one row per distinct (version, cluster): {v, c}
_FLAGGED_PAIRS = [{"$project": {"cluster_id": 1, "flagged_versions": 1}},
                  {"$unwind": "$flagged_versions"},
                  {"$group": {"_id": {"$concat": ["$flagged_versions", "|", "$cluster_id"]},
                              "v": {"$first": "$flagged_versions"}, "c": {"$first": "$cluster_id"}}}]
