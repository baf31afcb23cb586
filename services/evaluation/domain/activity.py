"""What one fact adds to the evaluation's counters, and the counters summarised per initiative."""
from __future__ import annotations

from dataclasses import dataclass

from .errors import UnsupportedEvent
from .events import METRICS

INITIATIVES = (1, 2, 3, 4)


@dataclass(frozen=True)
class Increment:
    metric: str
    initiative: int
    amount: int = 1


def increment_for(event_type: str, data: dict) -> Increment:
    try:
        metric, fixed = METRICS[event_type]
    except KeyError:
        raise UnsupportedEvent(f"evaluation does not count events of type {event_type!r}") from None
    initiative = fixed if fixed is not None else data.get("initiative")
    if not isinstance(initiative, int) or isinstance(initiative, bool) or initiative not in INITIATIVES:
        raise UnsupportedEvent(f"{event_type} carries no initiative number 1-4")
    return Increment(metric=metric, initiative=initiative)


def summarise(rows: list[tuple[str, int, int]]) -> dict[str, dict[int, int]]:
    """{metric: {initiative: count}} from (metric, initiative, count) rows, each metric listing all four."""
    summary: dict[str, dict[int, int]] = {metric: dict.fromkeys(INITIATIVES, 0) for metric, _ in METRICS.values()}
    for metric, initiative, count in rows:
        summary.setdefault(metric, dict.fromkeys(INITIATIVES, 0))[initiative] = count
    return summary
