"""Attribute an activity to what paid for it, before its transaction."""
from __future__ import annotations

from services.outreach.domain.funding import (Funding, check_budget_line, check_grant_attribution,
                                              parse_funding)
from services.outreach.domain.reference import budget_lines, grant_initiatives


def attribute(funding_check, value: object, organisation: str) -> Funding:
    ref = parse_funding(value)
    if ref.kind == "budget":
        return check_budget_line(ref, organisation, budget_lines())
    return check_grant_attribution(ref, funding_check.attribute(ref.id), grant_initiatives())
