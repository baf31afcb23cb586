"""Checks of evaluation's RPC arguments, on the shared kit checks."""
from __future__ import annotations

from kit.inputs import InvalidInput
from services.evaluation.domain.activity import INITIATIVES


def initiative(value: object) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or value not in INITIATIVES:
        raise InvalidInput("initiative must be 1, 2, 3 or 4", "initiative")
    return value  # type: ignore[return-value]
