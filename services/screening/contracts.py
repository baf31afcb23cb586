"""The screening service's contracts, as schemas/ metadata states them (a test checks the code agrees)."""
from kit.contracts import default_registry

PRODUCES = default_registry().produced_by("screening")
CONSUMES = default_registry().consumed_by("screening")
