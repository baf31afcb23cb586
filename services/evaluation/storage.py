"""Evaluation's own database: activity counters, each increment written with its inbox row in one transaction."""
from __future__ import annotations

from kit.storage import MongoStore
from services.evaluation import codec
from services.evaluation.domain.activity import Increment

COUNTERS = "activity_counters"


class EvaluationStore(MongoStore):
    def add(self, session, increment: Increment) -> None:
        self.db[COUNTERS].update_one(
            {"_id": codec.counter_id(increment)},
            {"$inc": {"count": increment.amount},
             "$set": {"metric": increment.metric, "initiative": increment.initiative}},
            upsert=True, session=session)

    def counter_rows(self) -> list[tuple[str, int, int]]:
        return [codec.counter_row(d) for d in self.db[COUNTERS].find({}, {"_id": 0}).sort("_id", 1)]
