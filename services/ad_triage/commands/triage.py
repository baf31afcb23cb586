"""Triage: outreach staff move a cluster's queue item (assign, contact, close...): outreach works an advertiser or
network, not one ad. The domain decides whether a move is allowed; the move is stored only if nobody moved the item
since it was read (its queue version), once per request id, and the cluster's queue rows follow it in the same
transaction."""
from __future__ import annotations

from kit.storage import now
from services.ad_triage import inputs
from services.ad_triage.codec import queue_doc, queue_item
from services.ad_triage.domain.errors import ConcurrentChange, UnknownCluster
from services.ad_triage.domain.triage import STATES, move
from services.ad_triage.storage import AdTriageStore, views_of
from services.ad_triage.views import queue_view


class Triage:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def move_item(self, cluster_id, to_state, reason, actor, assignee, request_id, expected_version=None) -> dict:
        arguments = {"cluster_id": inputs.cluster_id(cluster_id),
                     "to_state": inputs.choice(to_state, "to_state", STATES),
                     "reason": inputs.text(reason, "reason", limit=1000), "actor": inputs.actor(actor),
                     "assignee": None if assignee is None else inputs.actor(assignee, "assignee"),
                     "expected_version": None if expected_version is None else inputs.whole_number(
                         expected_version, "expected_version", default=0, minimum=0)}

        def work(session):
            return self._move(session, **arguments)
        return self.store.run_once("move_item", request_id, arguments, work)

    def _move(self, session, cluster_id, to_state, reason, actor, assignee, expected_version) -> dict:
        doc = self.store.cluster(cluster_id, session)
        if doc is None or doc.get("score") is None:
            raise UnknownCluster("no cluster with this id")
        stored = doc["queue"]
        version = stored.get("version", 0)
        if expected_version is not None and expected_version != version:
            raise ConcurrentChange(f"cluster {cluster_id!r} was moved by someone else; reload and try again")
        item = move(queue_item(cluster_id, stored), to_state, actor, now(), reason, assignee)
        queue = queue_doc(item, version + 1)
        moved = {**doc, "queue": queue, "views": views_of(queue["state"], doc["score"]["priority"])}
        self.store.write_clusters(session, [moved], [doc])
        return queue_view(queue)
