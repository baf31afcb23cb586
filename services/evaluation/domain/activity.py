"""What the evaluation counts from other services' facts, per initiative of the amendment.

Counts feed the mid-term reviews and the OECD-DAC effectiveness questions; they hold no personal data, only
numbers per initiative and metric.
"""
from __future__ import annotations

from dataclasses import dataclass

# event type -> (metric it increments, fixed initiative or None to read it from the event's data);
# one place to extend when new services publish facts
METRICS: dict[str, tuple[str, int | None]] = {
    "grants.application.submitted": ("applications_submitted", None),
    # ad triage exists for initiative 1 (outreach to people in prostitution advertised online)
    "ad_triage.ad.flagged": ("ads_flagged", 1),
}


class UnsupportedEvent(ValueError):
    code = "unsupported_event"


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
    if not isinstance(initiative, int) or isinstance(initiative, bool) or not 1 <= initiative <= 4:
        raise UnsupportedEvent(f"{event_type} carries no initiative number 1-4")
    return Increment(metric=metric, initiative=initiative)


def summarise(rows: list[dict]) -> dict[str, dict[int, int]]:
    """{metric: {initiative: count}} from stored counter rows, each metric listing all four initiatives."""
    summary: dict[str, dict[int, int]] = {metric: {n: 0 for n in range(1, 5)} for metric, _ in METRICS.values()}
    for row in rows:
        summary.setdefault(row["metric"], {n: 0 for n in range(1, 5)})[row["initiative"]] = row["count"]
    return summary
