"""Evaluation's own database: activity counters, each written with its inbox row in one transaction."""
from __future__ import annotations

from kit.inbox import handle_once
from services.evaluation.domain.activity import Increment

COUNTERS = "activity_counters"
CONSUMER = "evaluation.activity"


class EvaluationStore:
    def __init__(self, client, db, outbox, settings) -> None:
        self.client, self.db = client, db

    def count(self, event: dict, increment: Increment) -> bool:
        def effect(session) -> None:
            self.db[COUNTERS].update_one(
                {"_id": f"{increment.metric}:{increment.initiative}"},
                {"$inc": {"count": increment.amount},
                 "$set": {"metric": increment.metric, "initiative": increment.initiative}},
                upsert=True, session=session)
        return handle_once(self.client, self.db, CONSUMER, event, effect)

    def counters(self) -> list[dict]:
        return list(self.db[COUNTERS].find({}, {"_id": 0}))
