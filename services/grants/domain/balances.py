"""Pool and grant balances, the pure checks that guard them, and their rebuild from events.

The storage layer enforces the same checks atomically with a conditional update, so both sides must agree on the
exact inequality. Each check is also given as a ceiling: the update matches only while the stored field is at most
the ceiling, e.g. ``{"_id": pool, "committed": {"$lte": commit_ceiling(allocated, amount)}}`` with ``$inc``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .events import DomainEvent

POOL_OPENED = "grants.pool.opened"
BUDGET_ENTERED = "grants.pool_budget.entered"
FINANCE_COMMITTEE_APPROVED = "grants.finance_committee.approved"
AWARD_COMMITTED = "grants.award.committed"
DISBURSEMENT_MADE = "grants.disbursement.made"
COMMITMENT_REALLOCATED = "grants.commitment.reallocated"
COMMITMENT_WITHDRAWN = "grants.commitment.withdrawn"


@dataclass(frozen=True)
class Approval:
    """The Finance Committee's approval of a funding: who recorded it, the day the committee approved, and the
    committee's reference (e.g. the number of the 'aktstykke')."""
    actor: str
    approved_on: str  # ISO date
    reference: str
    amount_ore: int


@dataclass
class PoolBalance:
    pool: str
    allocated: int | None  # None while the amount is unknown (Pro Vest before an officer enters it)
    committed: int = 0
    disbursed: int = 0
    approval: Approval | None = None

    @property
    def remaining(self) -> int | None:
        return None if self.allocated is None else self.allocated - self.committed


@dataclass
class GrantBalance:
    grant_id: str
    pool: str
    committed: int = 0
    disbursed: int = 0
    withdrawn: bool = False
    award_date: str | None = None  # ISO date of the award: no disbursement is dated before it

    @property
    def undisbursed(self) -> int:
        return self.committed - self.disbursed


@dataclass
class Balances:
    pools: dict[str, PoolBalance] = field(default_factory=dict)
    grants: dict[str, GrantBalance] = field(default_factory=dict)


def commit_allowed(allocated: int | None, committed: int, amount: int) -> bool:
    return allocated is not None and 0 < amount <= allocated - committed


def commit_ceiling(allocated: int, amount: int) -> int:
    """Largest ``committed`` a pool may hold for a commitment of ``amount`` to fit."""
    return allocated - amount


def disbursement_allowed(committed: int, disbursed: int, amount: int) -> bool:
    return 0 < amount <= committed - disbursed


def disbursement_ceiling(committed: int, amount: int) -> int:
    """Largest ``disbursed`` a grant may hold for a payment of ``amount`` to fit within its commitment."""
    return committed - amount


def release_allowed(committed: int, disbursed: int, amount: int) -> bool:
    # money already paid out cannot be moved or released: only the undisbursed part of a commitment
    return 0 < amount <= committed - disbursed


def recompute_balances(events: Iterable[DomainEvent | Mapping]) -> Balances:
    """Rebuild every balance from the ledger's events alone, in order. Unrelated event types are skipped."""
    balances = Balances()
    pools, grants = balances.pools, balances.grants
    for event in events:
        kind, data = _unpack(event)
        if kind == POOL_OPENED:
            pools[data["pool"]] = PoolBalance(data["pool"], data["allocatedOre"])
        elif kind == BUDGET_ENTERED:
            pools[data["pool"]].allocated = data["allocatedOre"]
        elif kind == FINANCE_COMMITTEE_APPROVED:
            pools[data["pool"]].approval = Approval(data["actor"], data["approvedOn"], data["reference"],
                                                    data["approvedOre"])
        elif kind == AWARD_COMMITTED:
            grants[data["grantId"]] = GrantBalance(data["grantId"], data["pool"], committed=data["amountOre"],
                                                   award_date=data.get("awardDate"))
            pools[data["pool"]].committed += data["amountOre"]
        elif kind == DISBURSEMENT_MADE:
            grants[data["grantId"]].disbursed += data["amountOre"]
            pools[data["pool"]].disbursed += data["amountOre"]
        elif kind == COMMITMENT_REALLOCATED:
            grants[data["fromGrantId"]].committed -= data["amountOre"]
            if data["toGrantId"] is None:
                pools[data["pool"]].committed -= data["amountOre"]
            else:
                grants[data["toGrantId"]].committed += data["amountOre"]
        elif kind == COMMITMENT_WITHDRAWN:
            grant = grants[data["grantId"]]
            grant.committed -= data["amountOre"]
            grant.withdrawn = True
            pools[data["pool"]].committed -= data["amountOre"]
    return balances


def _unpack(event: DomainEvent | Mapping) -> tuple[str, Mapping]:
    # accepts the event objects and their dict form as stored in the outbox
    if isinstance(event, DomainEvent):
        return event.type, event.data
    return event["type"], event["data"]
