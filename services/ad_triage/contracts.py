"""The ad triage service's contracts: events it publishes (see schemas/events/) and what it consumes."""
PRODUCES = ("ad_triage.ad.flagged", "ad_triage.ad.priority_changed")
CONSUMES = ("ad_triage.ad.observed",)
CONSUMER_TOPICS = ("ad_triage.observations",)
ADS_TOPIC = "ad_triage.ads"  # flagged and priority_changed, key = ad key, so one ad's events stay in order
