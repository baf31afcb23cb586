"""Outreach outcomes coming back as labels of ad clusters (the per-version figures they give are in queries.py).

Each event is handled once (its inbox row and its effect in one transaction: store.handle_once). An event naming no
cluster (a contact at a venue) is recorded as handled and changes nothing else. Otherwise the label of its
(cluster, contact) is merged with what was stored (domain/labels.py decides) and written in the same transaction.
"""
from __future__ import annotations

from kit.storage import now
from services.ad_triage.domain.labels import Label, label_from, merged
from services.ad_triage.storage import AdTriageStore

CONSUMER = "ad_triage.outreach_labels"  # the inbox name of both outreach consumers


def label_doc(label: Label, event_id: str, at, old: dict | None) -> dict:
    return {"_id": label.label_id, "cluster_id": label.cluster_id, "contact_id": label.contact_id,
            "ruleset_version": label.ruleset_version, "on": label.on, "outcome": label.outcome,
            "reached": label.reached, "identification_talk": label.identification_talk,
            "attempts": int(label.attempt),  # a number, so the database can sum it
            "events": [*(old or {}).get("events", ()), event_id],
            "first_at": (old or {}).get("first_at", at), "updated_at": at}


def label_of(doc: dict) -> Label:
    return Label(cluster_id=doc["cluster_id"], contact_id=doc["contact_id"], ruleset_version=doc["ruleset_version"],
                 on=doc["on"], outcome=doc["outcome"], reached=doc["reached"],
                 identification_talk=doc["identification_talk"], attempt=bool(doc["attempts"]))


class OutreachLabels:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store

    def record(self, event: dict) -> dict | None:
        """Handle one outreach event: {"labelled": bool, "label_id"} when handled now, None when handled before."""
        label = label_from(event["type"], event["data"])  # checked before the transaction: a bad one writes nothing

        def work(session) -> dict:
            if label is None:
                return {"labelled": False, "label_id": None}
            old = self.store.label(label.label_id, session)
            new = merged(None if old is None else label_of(old), label)
            self.store.save_label(session, label_doc(new, event["id"], now(), old))
            return {"labelled": True, "label_id": new.label_id}

        return self.store.handle_once(CONSUMER, event, work)
