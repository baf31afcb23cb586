"""Ad-triage service: screens online ads for trafficking indicators and queues them for digital outreach.

Words for ads coming in, one meaning each:
- source (commands/sources.py): a way ads come in: bulk import, one ad from the gateway, an observation event,
  a resubmission from the quarantine;
- arrival / rejection (domain/arrivals.py): a parsed record on its way in, stored-shape or refused with reasons;
- ingestion (commands/ingestion.py): arrivals merged, linked, scored and stored, rejections quarantined;
- inputs (inputs.py): checks of RPC arguments only.
"""
