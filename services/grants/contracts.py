"""The grants service's contracts, read from the schemas/ metadata so code and contract files cannot disagree."""
from kit.contracts import default_registry

PRODUCES: tuple[str, ...] = default_registry().produced_by("grants")
CONSUMES: tuple[str, ...] = default_registry().consumed_by("grants")
