"""The base of a service's domain refusals: a stable ``code`` clients branch on, and the ``field`` (as the RPC
spells it) a form can point at.

Standard library only, so a service's framework-free ``domain/errors.py`` may extend it (the import-linter contract
in pyproject.toml allows exactly that import). Messages quote ids and codes only: an error message ends up in logs
and traces."""
from __future__ import annotations


class CodedError(Exception):
    code = "error"

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message
