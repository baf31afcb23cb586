"""The grants service's contracts: events it publishes (see schemas/events/) and what it consumes."""
PRODUCES = ("grants.application.submitted",)
CONSUMES: tuple[str, ...] = ()
