"""What money can be granted from: the amendment's grant pools and its named fundings.

Initiatives 1 and 2 are pools ("kind": "grant_pool"). Initiative 3 is CMM's own outreach ("programme"); the only
grant money in it is the named Pro Vest funding, so the funding is the target, not the initiative. Initiative 4 is
an evaluation of CMM that "will be carried out": the amendment names no pool, grantee or application, so nothing
in it can be awarded as a grant (commissioning an evaluation is procurement, not grant-making).
"""
from __future__ import annotations

from dataclasses import dataclass

from .errors import NotAGrantPool, UnknownPool
from .reference import ActionPlan, Initiative, Milestone, Period, Region

GRANT_POOL_KIND = "grant_pool"


@dataclass(frozen=True)
class Pool:
    """One grant target. ``code`` is the initiative code for a pool, the funding code for a named funding."""
    code: str
    title: str
    initiative_number: int
    initiative_code: str
    initiative_title: str
    budget_ore: int | None  # None: the amendment states no amount (Pro Vest) until an officer enters it
    period: Period
    requires_knowledge_institution: bool
    requires_finance_committee_approval: bool
    region: Region | None
    milestones: tuple[Milestone, ...]
    recipient_name: str | None = None  # set for a funding earmarked for one named organisation

    @property
    def is_funding(self) -> bool:
        return self.code != self.initiative_code


def grant_pools(plan: ActionPlan) -> dict[str, Pool]:
    pools: dict[str, Pool] = {}
    for initiative in plan.initiatives:
        if initiative.kind == GRANT_POOL_KIND:
            pools[initiative.code] = _from_initiative(initiative)
        for funding in initiative.fundings:
            pools[funding.code] = Pool(
                code=funding.code, title=funding.title, initiative_number=initiative.number,
                initiative_code=initiative.code, initiative_title=initiative.title, budget_ore=funding.budget_ore,
                period=funding.period, requires_knowledge_institution=initiative.requires_knowledge_institution,
                requires_finance_committee_approval=funding.requires_finance_committee_approval,
                region=funding.region or initiative.region, milestones=initiative.milestones,
                recipient_name=funding.recipient_name,
            )
    return pools


def resolve(plan: ActionPlan, code: str) -> Pool:
    """The pool named ``code``, or a specific error saying why the code is not something that can be granted."""
    pools = grant_pools(plan)
    if code in pools:
        return pools[code]
    for initiative in plan.initiatives:
        if code == initiative.code or code == str(initiative.number):
            if initiative.code in pools:
                return pools[initiative.code]
            named = ", ".join(f.code for f in initiative.fundings)
            hint = f"; award against its funding ({named}) instead" if named else ""
            raise NotAGrantPool(f"initiative {initiative.number} ({initiative.code}) is of kind "
                                f"{initiative.kind!r}, not a grant pool{hint}",
                                pool=initiative.code, kind=initiative.kind)
    raise UnknownPool(f"no grant pool or funding with code {code!r}", pool=code)


def _from_initiative(initiative: Initiative) -> Pool:
    return Pool(
        code=initiative.code, title=initiative.title, initiative_number=initiative.number,
        initiative_code=initiative.code, initiative_title=initiative.title, budget_ore=initiative.budget_ore,
        period=initiative.period, requires_knowledge_institution=initiative.requires_knowledge_institution,
        requires_finance_committee_approval=initiative.requires_finance_committee_approval,
        region=initiative.region, milestones=initiative.milestones,
    )
