"""The other services' facts evaluation reads, and what each one counts towards.

Counts feed the mid-term reviews and the OECD-DAC effectiveness questions; they hold no personal data, only
numbers per initiative and metric.
"""
from __future__ import annotations

# event type -> (metric it increments, fixed initiative or None to read it from the event's data);
# one place to extend when new services publish facts
METRICS: dict[str, tuple[str, int | None]] = {
    "grants.application.submitted": ("applications_submitted", None),
    # ad triage exists for initiative 1 (outreach to people in prostitution advertised online); it flags clusters
    # (one advertiser or network), once per cluster and rule-set version, so this counts flagged clusters
    "ad_triage.ad.flagged": ("ads_flagged", 1),
}
COUNTED = tuple(sorted(METRICS))
