"""Answers of evaluation's queries (snake_case; the gateway camel-cases them)."""
from __future__ import annotations


def activity_view(summary: dict[str, dict[int, int]], initiative: int | None = None) -> dict:
    return {metric: [{"initiative": n, "count": c} for n, c in sorted(per.items()) if initiative in (None, n)]
            for metric, per in sorted(summary.items())}
