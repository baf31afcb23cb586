"""Read side: the activity counters per metric and initiative."""
from __future__ import annotations

from services.evaluation import inputs
from services.evaluation.domain.activity import summarise
from services.evaluation.storage import EvaluationStore
from services.evaluation.views import activity_view


class EvaluationQueries:
    def __init__(self, store: EvaluationStore) -> None:
        self.store = store

    def activity_counts(self, initiative=None) -> dict:
        return activity_view(summarise(self.store.counter_rows()), inputs.initiative(initiative))
