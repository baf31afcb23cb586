"""Sources: the ways ads come in. A bulk import of lines over RPC, one ad from the gateway, an observation event from
a crawler's connector on Kafka, and a resubmission from the quarantine. Each turns what it received into arrivals
(domain/arrivals.py) and hands them to ingestion (commands/ingestion.py), so every source stores the same shape.

Bulk imports and single ads are idempotent by their sighting references (request id and line): a retried request
adds no sighting and answers "unchanged". A resubmission runs once per request id (store.run_once).
"""
from __future__ import annotations

import json
import uuid
from dataclasses import replace
from datetime import timedelta

from kit.signing import verify
from kit.storage import now
from services.ad_triage import inputs
from services.ad_triage.codec import decrypt_raw, encrypt_raw
from services.ad_triage.commands.ingestion import Ingestion
from services.ad_triage.domain.arrivals import Arrival, service_checks, split_lines
from services.ad_triage.domain.errors import AlreadyResubmitted, UnknownQuarantined
from services.ad_triage.domain.events import stored_from_observed
from services.ad_triage.domain.masking import mask_contacts
from services.ad_triage.domain.records import RecordRejected
from services.ad_triage.domain.stored import key_string, stored_ad_id, stored_url
from services.ad_triage.storage import AdTriageStore

CONSUMER = "ad_triage.observations"  # the inbox name of the observation consumer (kept: it keys recorded events)
VIA = ("import", "connector", "gateway")


class Sources:
    def __init__(self, store: AdTriageStore) -> None:
        self.store = store
        self.ingestion = Ingestion(store)

    def import_batch(self, lines, format, actor, request_id, first_line, via) -> dict:
        lines, fmt, actor = inputs.lines(lines), inputs.file_format(format), inputs.actor(actor)
        first = inputs.whole_number(first_line, "first_line", default=1, minimum=1)
        via = inputs.optional_choice(via, "via", VIA) or "import"
        prefix = f"{via}:{inputs.request_id(request_id) or uuid.uuid4().hex}"
        arrivals, rejections = split_lines(lines, fmt, self.store.pseudonymise, prefix, via, now(), self._skew())
        # number lines as the file does: a CSV chunk repeats the header, which is not a line of the file
        shift = first - (2 if fmt == "csv" else 1)
        if shift:
            arrivals = [replace(a, line=a.line + shift) for a in arrivals]
            rejections = [replace(r, line=r.line + shift) for r in rejections]
        return self.ingestion.ingest(arrivals, rejections, ref_prefix=prefix, actor=actor, via=via)

    def _skew(self) -> timedelta:
        return timedelta(seconds=getattr(self.store.settings, "ingest_clock_skew_s", 300))

    def submit_ad(self, record, actor, request_id) -> dict:
        """One ad from the gateway; a record that fails validation is quarantined and its reasons returned.

        The answer is about this ad only (its key, status, reasons): nothing of its cluster, its score or other ads,
        so submitting an ad cannot tell anyone whether a number is known."""
        line = json.dumps(inputs.record(record), ensure_ascii=False)
        report = self.import_batch([line], "jsonl", actor, request_id, 1, "gateway")
        result = report["results"][0]
        return {k: result.get(k) for k in ("line", "status", "ad_key", "quarantine_id", "reasons")}

    def resubmit(self, quarantine_id, record, actor, request_id) -> dict:
        """Try a quarantined record again, as stored (after a validator fix) or as corrected by the caller."""
        actor = inputs.actor(actor)
        qid = inputs.text(quarantine_id, "quarantine_id", limit=64)
        record = inputs.optional_text(record, "record", limit=inputs.MAX_LINE)
        arguments = {"quarantine_id": qid, "record": record, "actor": actor}
        doc = self.store.quarantined(qid)
        if doc is None:
            raise UnknownQuarantined("no quarantined record with this id")
        raw = decrypt_raw(doc, self.store.cipher) if record is None else record
        attempt = doc.get("attempts", 1) + 1
        prefix = f"resubmit:{qid}:{attempt}"
        rows = raw.splitlines(keepends=doc["format"] == "csv") or [raw]
        arrivals, rejections = split_lines(rows, doc["format"], self.store.pseudonymise, prefix, "resubmit", now(),
                                           self._skew())
        if len(arrivals) + len(rejections) != 1:
            raise inputs.InvalidInput("record must hold exactly one ad", "record")
        at = now().isoformat()

        def run_once(work):
            return self.store.run_once("resubmit_quarantined", request_id, arguments, work)

        if rejections:
            changes = {"reasons": list(rejections[0].reasons), "attempts": attempt, "last_attempt_at": at,
                       "raw": encrypt_raw(rejections[0].raw, qid, self.store.cipher)}

            def still_rejected(session):
                self._still_open(session, qid)
                self.store.update_quarantined(session, qid, changes)
                return {"quarantine_id": qid, "status": "quarantined", "reasons": changes["reasons"], "ad_key": None}
            return run_once(still_rejected)

        def resolve(session):
            self._still_open(session, qid)
            self.store.update_quarantined(session, qid, {"status": "resubmitted", "attempts": attempt,
                                                         "ad_key": key_string(arrivals[0].ad.key),
                                                         "resolved_by": actor, "last_attempt_at": at})
        report = self.ingestion.ingest(arrivals, [], ref_prefix=prefix, actor=actor, via="resubmit", also=resolve,
                                       runner=run_once)
        result = report["results"][0]
        return {"quarantine_id": qid, "status": result["status"], "reasons": [], "ad_key": result["ad_key"]}

    def _still_open(self, session, qid: str) -> None:
        """Checked inside the transaction, so two resubmissions of one record cannot both succeed, and a retry with
        the same request id is answered by run_once before it gets here."""
        doc = self.store.quarantined(qid, session)
        if doc["status"] != "open":
            raise AlreadyResubmitted(f"quarantined record {qid!r} was already accepted as {doc.get('ad_key')}")

    def observed(self, event: dict) -> dict:
        """An ad_triage.ad.observed event: already pseudonymised at the edge; masked again here all the same.

        Only a registered producer's signed event is taken (kit.signing; AD_TRIAGE_PRODUCERS): anything else raises
        UnverifiedEvent and is dead-lettered with the reason, as is an ad seen in the future."""
        verify(event, getattr(self.store.settings, "ad_triage_producers", {}) or {}, producer_field="connector")
        ad = stored_from_observed(event["data"])
        ad = replace(ad, title=mask_contacts(ad.title), text=mask_contacts(ad.text),
                     location=mask_contacts(ad.location),
                     url=stored_url(ad.url, ad.ad_id, stored_ad_id(ad.platform, ad.ad_id, self.store.pseudonymise)),
                     ad_id=stored_ad_id(ad.platform, ad.ad_id, self.store.pseudonymise))
        problems = service_checks(ad, now(), self._skew())  # the contract already holds the record's shape
        if problems:
            raise RecordRejected(problems)
        ref = f"event:{event['id']}"
        return self.ingestion.ingest([Arrival(ad, ref, "kafka")], [], ref_prefix=ref, actor="connector", via="kafka",
                                     runner=lambda work: self.store.handle_once(CONSUMER, event, work))
