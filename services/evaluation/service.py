"""Evaluation service: consumes other services' facts and answers with counts per initiative."""
from __future__ import annotations

import logging

from kit.consumer import kafka_consumer
from kit.nameko_kit import HealthCheck, Store, Tracing, command
from services.evaluation.contracts import AD_TRIAGE_TOPICS, CONSUMES, GRANTS_TOPICS
from services.evaluation.domain.activity import increment_for, summarise
from services.evaluation.storage import EvaluationStore

log = logging.getLogger("actionplan.evaluation")


class EvaluationService(HealthCheck):
    name = "evaluation"
    store = Store(EvaluationStore)
    tracing = Tracing()

    @kafka_consumer(*GRANTS_TOPICS)
    def on_grants_application(self, event: dict) -> None:
        self._count(event)

    @kafka_consumer(*AD_TRIAGE_TOPICS)
    def on_ad_triage(self, event: dict) -> None:
        self._count(event)

    def _count(self, event: dict) -> None:
        if event["type"] not in CONSUMES:
            return  # topics carry other event types too; only these are counted (yet)
        applied = self.store.count(event, increment_for(event["type"], event["data"]))
        log.info("event %s %s", event["id"], "counted" if applied else "already counted")

    @command
    def activity_counts(self) -> dict:
        summary = summarise(self.store.counters())
        return {metric: [{"initiative": n, "count": c} for n, c in sorted(per.items())]
                for metric, per in summary.items()}


SERVICE = EvaluationService
