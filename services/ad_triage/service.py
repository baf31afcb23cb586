"""Ad triage service (nameko): RPC and Kafka entrypoints only; the work is in doors, triage_commands and queries."""
from __future__ import annotations

import logging

from nameko.rpc import rpc

from kit.consumer import kafka_consumer
from kit.nameko_kit import Store, Tracing, command
from services.ad_triage.contracts import CONSUMER_TOPICS, CONSUMES
from services.ad_triage.doors import Doors
from services.ad_triage.queries import TriageQueries
from services.ad_triage.storage import AdTriageStore
from services.ad_triage.triage_commands import TriageCommands

log = logging.getLogger("actionplan.ad_triage")


class AdTriageStoreReady(AdTriageStore):
    def setup(self) -> None:
        super().setup()
        # a crash between linking and writing leaves stored cluster ids behind the rebuilt state: repair them
        clusters = self.network.all_clusters()
        stale = sum(self.network.persisted_cluster.get(k) != cid for cid, ms in clusters.items() for k in ms)
        if stale:
            log.warning("%d ads had a stale cluster id after restart; rescoring", stale)
            TriageCommands(self).rescore(actor="system")
        log.info("linking state rebuilt: %d ads in %d clusters", len(self.network), len(clusters))


class AdTriageService:
    name = "ad_triage"
    store = Store(AdTriageStoreReady)
    tracing = Tracing()

    # -- ingestion -------------------------------------------------------------------------------------------------
    @command
    def import_batch(self, **kwargs) -> dict:
        report = Doors(self.store).import_batch(**kwargs)
        log.info("import: %d accepted, %d updated, %d quarantined, %d flagged", report["accepted"],
                 report["updated"], report["quarantined"], report["flagged"])
        return report

    @command
    def submit_ad(self, **kwargs) -> dict:
        return Doors(self.store).submit_ad(**kwargs)

    @command
    def resubmit_quarantined(self, **kwargs) -> dict:
        return Doors(self.store).resubmit(**kwargs)

    @kafka_consumer(*CONSUMER_TOPICS)
    def on_observation(self, event: dict) -> None:
        if event["type"] not in CONSUMES:
            return
        report = Doors(self.store).observed(event)
        log.info("observation %s: %d accepted, %d updated", event["id"], report["accepted"], report["updated"])

    # -- triage and rule sets --------------------------------------------------------------------------------------
    @command
    def move_item(self, **kwargs) -> dict:
        return TriageCommands(self.store).move_item(**kwargs)

    @command
    def publish_ruleset(self, **kwargs) -> dict:
        return TriageCommands(self.store).publish_ruleset(**kwargs)

    @command
    def rescore(self, **kwargs) -> dict:
        return TriageCommands(self.store).rescore(**kwargs)

    # -- queries ---------------------------------------------------------------------------------------------------
    @command
    def queue(self, **kwargs) -> dict:
        return TriageQueries(self.store).queue(**kwargs)

    @command
    def ad(self, **kwargs) -> dict:
        return TriageQueries(self.store).ad(**kwargs)

    @command
    def cluster(self, **kwargs) -> dict:
        return TriageQueries(self.store).cluster(**kwargs)

    @command
    def quarantine(self, **kwargs) -> dict:
        return TriageQueries(self.store).quarantine(**kwargs)

    @command
    def rulesets(self) -> dict:
        return TriageQueries(self.store).rulesets()

    @rpc
    def health(self) -> dict:
        self.store.db.command("ping")
        return {"service": self.name, "status": "ok", "ads_linked": len(self.store.network)}


SERVICE = AdTriageService
REQUIRED_SETTINGS = ("pseudonym_key", "notes_key")
