"""The evaluation service's contracts: the Kafka facts it consumes and the events it publishes (see schemas/)."""
CONSUMES = ("grants.application.submitted", "ad_triage.ad.flagged")
PRODUCES: tuple[str, ...] = ()
GRANTS_TOPICS = ("grants.applications",)
AD_TRIAGE_TOPICS = ("ad_triage.ads",)
