"""Which programme and which grant fund pay for an activity.

Outreach and screening records elsewhere carry a grant id; this answers, for that id, the initiative of the
amendment and the fund (pool or named funding) behind it. Only an active grant funds activities: an award not yet
started, or a grant closed or withdrawn, must not be credited with new work.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from .applications import Application, State
from .errors import NotActive, UnknownGrant
from .pools import resolve
from .reference import ActionPlan


@dataclass(frozen=True)
class Attribution:
    grant_id: str
    initiative_number: int
    initiative_code: str
    fund_code: str  # the pool (initiatives 1, 2) or the named funding (Pro Vest under initiative 3)
    funder_id: str
    recipient_id: str


def attribute(grant_id: str, grants: Mapping[str, Application], plan: ActionPlan) -> Attribution:
    grant = grants.get(grant_id) if isinstance(grant_id, str) else None
    if grant is None:
        raise UnknownGrant(f"no grant with id {grant_id!r}", grant_id=grant_id)
    if grant.state is not State.ACTIVE:
        raise NotActive(f"grant {grant_id} is {grant.state.value}, not active; it cannot fund an activity",
                        grant_id=grant_id, state=grant.state.value)
    pool = resolve(plan, grant.pool_code)
    return Attribution(grant_id=grant_id, initiative_number=pool.initiative_number,
                       initiative_code=pool.initiative_code, fund_code=pool.code, funder_id=plan.funder_id,
                       recipient_id=grant.applicant_id)
