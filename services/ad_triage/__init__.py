"""Ad-triage service: screens online ads for trafficking indicators and queues them for digital outreach."""
