"""The evaluation service's contracts: the Kafka facts it consumes and the events it publishes (see schemas/)."""
CONSUMES = ("grants.application.submitted",)
PRODUCES: tuple[str, ...] = ()
CONSUMER_TOPICS = ("grants.applications",)
