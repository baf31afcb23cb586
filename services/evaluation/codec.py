"""Counter documents: one per metric and initiative, holding a count and nothing else."""
from __future__ import annotations

from services.evaluation.domain.activity import Increment


def counter_id(increment: Increment) -> str:
    return f"{increment.metric}:{increment.initiative}"


def counter_row(doc: dict) -> tuple[str, int, int]:
    return doc["metric"], doc["initiative"], doc["count"]
