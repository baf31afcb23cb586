"""The three ways ads come in (bulk lines over RPC, single ads from the gateway, observations from Kafka) and the
way back out of quarantine. Each ends in the same Ingestion step, so every door stores the same shape."""
from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import datetime, timezone

from kit.inbox import handle_once
from services.ad_triage import inputs
from services.ad_triage.codec import key_string, stored_from_observed
from services.ad_triage.domain.masking import mask_contacts
from services.ad_triage.domain.records import RecordRejected
from services.ad_triage.ingest import Ingestion
from services.ad_triage.intake import Arrival, decrypt_raw, service_checks, split_lines
from services.ad_triage.storage import AdTriageStore

CONSUMER = "ad_triage.observations"


class UnknownQuarantined(ValueError):
    code = "unknown_quarantined"
    field = "quarantine_id"


class AlreadyResubmitted(ValueError):
    code = "already_resubmitted"
    field = "quarantine_id"


class Doors:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store
        self.ingestion = Ingestion(store)

    def import_batch(self, *, lines, format="jsonl", actor, request_id=None, first_line=1, via="import") -> dict:
        lines, fmt, actor = inputs.lines(lines), inputs.file_format(format), inputs.actor(actor)
        first = inputs.positive_int(first_line, "first_line", 1) or 1
        via = inputs.optional_choice(via, "via", ("import", "connector", "gateway")) or "import"
        prefix = f"{via}:{inputs.request_id(request_id) or uuid.uuid4().hex}"
        arrivals, rejections = split_lines(lines, fmt, self.store.pseudonymise, prefix, via)
        # number lines as the file does: a CSV chunk repeats the header, which is not a line of the file
        shift = first - (2 if fmt == "csv" else 1)
        if shift:
            arrivals = [replace(a, line=a.line + shift) for a in arrivals]
            rejections = [replace(r, line=r.line + shift) for r in rejections]
        return self.ingestion.ingest(arrivals, rejections, ref_prefix=prefix, actor=actor, via=via)

    def submit_ad(self, *, record, actor, request_id=None) -> dict:
        """One ad from the gateway; a record that fails validation is quarantined and its reasons returned."""
        line = json.dumps(inputs.record(record), ensure_ascii=False)
        report = self.import_batch(lines=[line], format="jsonl", actor=actor, request_id=request_id, via="gateway")
        return {**report["results"][0], "flagged": report["flagged"]}

    def resubmit(self, *, quarantine_id, record=None, actor) -> dict:
        """Try a quarantined record again, as stored (after a validator fix) or as corrected by the caller."""
        actor = inputs.actor(actor)
        qid = inputs.text(quarantine_id, "quarantine_id", limit=64)
        doc = self.store.quarantined(qid)
        if doc is None:
            raise UnknownQuarantined(f"no quarantined record {qid!r}")
        if doc["status"] != "open":
            raise AlreadyResubmitted(f"quarantined record {qid!r} was already accepted as {doc.get('ad_key')}")
        raw = decrypt_raw(doc, self.store.cipher) if record is None else inputs.text(record, "record", 100_000)
        attempt = doc.get("attempts", 1) + 1
        prefix = f"resubmit:{qid}:{attempt}"
        rows = raw.splitlines(keepends=doc["format"] == "csv") or [raw]
        arrivals, rejections = split_lines(rows, doc["format"], self.store.pseudonymise, prefix, "resubmit")
        if len(arrivals) + len(rejections) != 1:
            raise inputs.InvalidInput("record must hold exactly one ad", "record")
        now = datetime.now(timezone.utc)
        if rejections:
            changes = {"reasons": list(rejections[0].reasons), "attempts": attempt,
                       "last_attempt_at": now.isoformat(),
                       "raw": self.store.cipher.encrypt(rejections[0].raw, f"ad_triage/quarantine/{qid}")}
            self.store.transaction(lambda s: self.store.update_quarantined(s, qid, changes))
            return {"quarantine_id": qid, "status": "quarantined", "reasons": changes["reasons"], "ad_key": None}

        def resolve(session):
            self.store.update_quarantined(session, qid, {"status": "resubmitted", "attempts": attempt,
                                                         "ad_key": key_string(arrivals[0].ad.key),
                                                         "resolved_by": actor, "last_attempt_at": now.isoformat()})
        report = self.ingestion.ingest(arrivals, [], ref_prefix=prefix, actor=actor, via="resubmit", also=resolve)
        result = report["results"][0]
        return {"quarantine_id": qid, "status": result["status"], "reasons": [], "ad_key": result["ad_key"]}

    def observed(self, event: dict) -> dict:
        """An ad_triage.ad.observed event: already pseudonymised at the edge; masked again here all the same."""
        ad = stored_from_observed(event["data"])
        ad = replace(ad, title=mask_contacts(ad.title), text=mask_contacts(ad.text))
        problems = service_checks(ad)  # the contract already holds the record's shape
        if problems:
            raise RecordRejected(problems)
        arrival = Arrival(ad, f"event:{event['id']}", "kafka")

        def runner(work):
            outcome = {}
            handle_once(self.store.client, self.store.db, CONSUMER, event,
                        lambda session: outcome.update(work(session)))
            return outcome or {"accepted": 0, "updated": 0, "unchanged": 1, "flagged": 0, "_results": [],
                               "_clusters": {}}
        return self.ingestion.ingest([arrival], [], ref_prefix=f"event:{event['id']}", actor="connector",
                                     via="kafka", session_runner=runner)
