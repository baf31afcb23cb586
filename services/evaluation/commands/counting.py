"""Count one consumed fact exactly once: the increment and the inbox row commit together."""
from __future__ import annotations

from services.evaluation.domain.activity import increment_for
from services.evaluation.storage import EvaluationStore

CONSUMER = "evaluation.activity"


class CountingCommands:
    def __init__(self, store: EvaluationStore) -> None:
        self.store = store

    def count(self, event: dict) -> bool:
        """True when the event was counted now, False when it had been counted before (a redelivery)."""
        increment = increment_for(event["type"], event["data"])
        return self.store.handle_once(CONSUMER, event, lambda session: self.store.add(session, increment))
