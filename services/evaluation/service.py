"""Evaluation service (nameko): consumes other services' facts and answers with counts per initiative."""
from __future__ import annotations

import logging

from kit.consumer import kafka_consumer
from kit.nameko_kit import Caller, HealthCheck, Store, Tracing, command
from kit.retention import RecordRetention
from services.evaluation.commands.counting import CountingCommands
from services.evaluation.queries import EvaluationQueries
from services.evaluation.storage import EvaluationStore

log = logging.getLogger("actionplan.evaluation")


class EvaluationService(HealthCheck, RecordRetention):
    name = "evaluation"
    store = Store(EvaluationStore)
    tracing = Tracing()
    caller = Caller()

    @kafka_consumer("grants.application.submitted")
    def on_grants_application(self, event: dict) -> None:
        self._count(event)

    @kafka_consumer("ad_triage.ad.flagged")
    def on_ad_triage(self, event: dict) -> None:
        self._count(event)

    def _count(self, event: dict) -> None:
        counted = CountingCommands(self.store).count(event)
        log.info("event %s %s", event["id"], "counted" if counted else "already counted")

    @command
    def activity_counts(self, initiative=None) -> dict:
        return EvaluationQueries(self.store).activity_counts(initiative)


SERVICE = EvaluationService
REQUIRED_SETTINGS = ("principal_key",)
