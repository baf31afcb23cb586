"""The ad triage service's contracts, from the metadata in schemas/events/: the events it owns (flagged and
priority_changed from the outbox; observed from crawlers' connectors) and those it consumes (observed)."""
from kit.contracts import default_registry
from services.ad_triage.domain.events import FLAGGED, OBSERVED

SERVICE = "ad_triage"
PRODUCES = default_registry().produced_by(SERVICE)
CONSUMES = default_registry().consumed_by(SERVICE)
CONSUMER_TOPICS = ("ad_triage.observations",)
OBSERVATIONS_TOPIC = default_registry().contract(OBSERVED).topic  # where connectors publish observations
ADS_TOPIC = default_registry().contract(FLAGGED).topic  # flagged and priority_changed, key = ad key: in order per ad
