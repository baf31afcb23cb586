"""Ad triage service (nameko): RPC and Kafka entrypoints only, each with the keyword arguments its callers send; the
work is in commands/ (sources, triage, rulesets, labels: outreach outcomes as labels of clusters) and queries.py.

Every RPC request is checked against the access policy before it runs (kit.nameko_kit). A caller held to its region
(an outreach worker of Pro Vest: Region Zealand) reaches no triage item yet: stored ads carry no region, so the
queue is empty for it and every ad and cluster answers as unknown, until the ads' places map to regions."""
from __future__ import annotations

import logging

from nameko.timer import timer

from kit.consumer import kafka_consumer
from kit.memory import release_freed
from kit.nameko_kit import Caller, HealthCheck, Store, Tracing, checked, command
from kit.retention import RecordRetention
from kit.settings import from_environment
from services.ad_triage import inputs
from services.ad_triage.commands.labels import OutreachLabels
from services.ad_triage.commands.rulesets import RuleSets
from services.ad_triage.commands.sources import Sources
from services.ad_triage.commands.triage import Triage
from services.ad_triage.domain.errors import UnknownAd, UnknownCluster
from services.ad_triage.queries import TriageQueries
from services.ad_triage.storage import AdTriageStore

log = logging.getLogger("actionplan.ad_triage")


RESCORE_SECONDS = from_environment("ad_triage_rescore_s")


class AdTriageService(HealthCheck, RecordRetention):
    name = "ad_triage"
    store = Store(AdTriageStore)
    tracing = Tracing()
    caller = Caller()

    @property
    def _regional(self) -> bool:
        """The caller may reach only its region's items (ads carry no region yet, so: none)."""
        return checked(self.caller).region_scope is not None

    # -- ingestion -------------------------------------------------------------------------------------------------
    @command
    def import_batch(self, *, lines, actor, format="jsonl", request_id=None, first_line=1, via="import") -> dict:
        report = Sources(self.store).import_batch(lines, format, actor, request_id, first_line, via)
        release_freed()  # a chunk of thousands of ads: its memory goes back (kit/memory.py)
        log.info("import: %d accepted, %d updated, %d quarantined, %d flagged", report["accepted"],
                 report["updated"], report["quarantined"], report["flagged"])
        return report

    @command
    def submit_ad(self, *, record, actor, request_id=None) -> dict:
        return Sources(self.store).submit_ad(record, actor, request_id)

    @command
    def resubmit_quarantined(self, *, quarantine_id, actor, record=None, request_id=None) -> dict:
        return Sources(self.store).resubmit(quarantine_id, record, actor, request_id)

    @kafka_consumer("ad_triage.ad.observed")
    def on_observation(self, event: dict) -> None:
        report = Sources(self.store).observed(event)
        log.info("observation %s: %d accepted, %d updated", event["id"], report["accepted"], report["updated"])

    # -- outreach outcomes as labels -------------------------------------------------------------------------------
    # one entrypoint for both types: they share a topic, so a poison record there is dead-lettered once
    @kafka_consumer("outreach.contact.made", "outreach.identification_talk.held")
    def on_outreach_outcome(self, event: dict) -> None:
        result = OutreachLabels(self.store).record(event)
        if result is None:
            log.info("outreach event %s already handled", event["id"])
        else:
            log.info("outreach event %s %s", event["id"], "labelled a cluster" if result["labelled"]
                     else "names no cluster: nothing to label")

    # -- triage and rule sets --------------------------------------------------------------------------------------
    @command
    def move_item(self, *, cluster_id, to_state, reason, actor, assignee=None, expected_version=None,
                  request_id=None) -> dict:
        if self._regional:
            raise UnknownCluster(f"no cluster {inputs.cluster_id(cluster_id)!r}")
        return Triage(self.store).move_item(cluster_id, to_state, reason, actor, assignee, request_id,
                                            expected_version)

    @command
    def publish_ruleset(self, *, version, actor, request_id=None) -> dict:
        try:
            return RuleSets(self.store).publish(version, actor, request_id)
        finally:
            release_freed()

    @command
    def rescore(self, *, actor, version=None, request_id=None) -> dict:
        try:
            return RuleSets(self.store).rescore(version, actor, request_id)
        finally:
            release_freed()

    @timer(interval=RESCORE_SECONDS)
    def resume_rescore(self) -> None:
        """A rescore cut short (a crash, a redeploy) goes on where it stopped, on whichever instance gets to it."""
        progress = RuleSets(self.store).resume()
        release_freed()
        if progress is not None and progress.get("rescored"):
            log.info("rescore with %s: %s", progress["version"], progress["phase"])

    # -- queries ---------------------------------------------------------------------------------------------------
    @command
    def queue(self, *, state=None, priority=None, limit=50, offset=0) -> dict:
        page = TriageQueries(self.store).queue(state, priority, limit, offset)
        return {**page, "total": 0, "items": []} if self._regional else page

    @command
    def ad(self, *, ad_key) -> dict:
        if self._regional:
            raise UnknownAd(f"no ad {inputs.ad_key(ad_key)!r}")
        return TriageQueries(self.store).ad(ad_key)

    @command
    def cluster(self, *, cluster_id) -> dict:
        if self._regional:
            raise UnknownCluster(f"no cluster {inputs.text(cluster_id, 'cluster_id', limit=40)!r}")
        return TriageQueries(self.store).cluster(cluster_id)

    @command
    def quarantine(self, *, status="open", limit=50, offset=0) -> dict:
        return TriageQueries(self.store).quarantine(status, limit, offset)

    @command
    def rulesets(self) -> dict:
        return TriageQueries(self.store).rulesets()

    @command
    def outcomes(self) -> dict:
        """Per rule-set version: flagged clusters, those reached by outreach, those that led to an identification
        talk, and the outreach attempts recorded (labels from outreach events)."""
        return TriageQueries(self.store).outcomes()

    @command
    def linking(self) -> dict:
        """The stored clusters: how many ads and clusters, and a digest of their membership (reads every ad)."""
        return TriageQueries(self.store).linking()


SERVICE = AdTriageService
REQUIRED_SETTINGS = ("pseudonym_key", "notes_key", "principal_key")
