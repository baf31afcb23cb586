"""Who is acting and what they may reach: the caller's organisation and, for a regional organisation, its region.

A record outside the caller's region is answered as unknown, exactly like a missing id (no oracle)."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timezone

from services.outreach.domain.errors import NotYourTeam, OutsideRegion
from services.outreach.domain.reference import Team


@dataclass(frozen=True)
class Scope:
    organisation: str | None  # the caller's organisation (None: a service account or an operator)
    region: str | None  # the only region the caller reaches (None: every region)

    def sees(self, region: str | None) -> bool:
        return self.region is None or region == self.region

    def check_may_act_in(self, region: str, field: str) -> None:
        if not self.sees(region):
            raise OutsideRegion(f"the caller works in region {self.region} only", field)

    def check_team(self, team: Team) -> None:
        if self.organisation is not None and team.organisation != self.organisation:
            raise NotYourTeam(f"team {team.id} belongs to {team.organisation}", "team_id")


UNRESTRICTED = Scope(None, None)


def new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:16]}"


def today() -> date:
    return datetime.now(timezone.utc).date()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Context:
    """What every outreach command needs: the store, the caller's scope, the funding check, the rules, a clock."""
    store: object
    scope: Scope
    funding: object
    rules: object
    today: object = today
    now: object = utcnow
