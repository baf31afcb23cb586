"""The pool ledger: award commitments, disbursements, reallocations, withdrawals and the Pro Vest approval steps.

Every operation checks all of its rules before it changes anything, so a refused operation leaves the ledger as it
was, and returns the events that describe the change (amounts in øre, subject = pool code, the aggregate whose
invariant ``committed <= allocated`` they protect). ``recompute_balances(events)`` folds the same events back into
the same balances.
"""
from __future__ import annotations

import copy
from datetime import date, timedelta

from . import balances as b
from .balances import Approval, Balances, GrantBalance, PoolBalance
from .eligibility import check_date_in_period
from .errors import (BudgetExceeded, BudgetLocked, BudgetNotSet, CommitmentWithdrawn, DisbursementDateNotAllowed,
                     DisbursementExceedsCommitment,
                     FinanceCommitteeApprovalRequired, GrantAlreadyCommitted, InsufficientCommitment, InvalidInput,
                     InvalidPeriod, PoolMismatch, UnknownGrant)
from .events import Clock, DomainEvent, aware, require_text
from .money import check_ore
from .pools import Pool, grant_pools, resolve
from .reference import ActionPlan


# how far ahead of today a disbursement may be dated (a payment registered as scheduled); later ones are refused
DISBURSEMENT_HORIZON_DAYS = 365


class Ledger:
    def __init__(self, plan: ActionPlan, clock: Clock, balances: Balances, *,
                 horizon_days: int = DISBURSEMENT_HORIZON_DAYS) -> None:
        self._plan, self._clock, self._balances = plan, clock, balances
        self._horizon = timedelta(days=horizon_days)
        self._pools: dict[str, Pool] = grant_pools(plan)

    @classmethod
    def open(cls, plan: ActionPlan, clock: Clock) -> tuple["Ledger", list[DomainEvent]]:
        """A ledger with every grant pool at its reference budget, and the events that record the opening."""
        ledger = cls(plan, clock, Balances())
        events = [ledger._emit(b.POOL_OPENED, p.code, allocatedOre=p.budget_ore,
                               requiresFinanceCommitteeApproval=p.requires_finance_committee_approval)
                  for p in ledger._pools.values()]
        ledger._balances.pools.update({p.code: PoolBalance(p.code, p.budget_ore) for p in ledger._pools.values()})
        return ledger, events

    def balances(self) -> Balances:
        return copy.deepcopy(self._balances)

    def pool(self, code: str) -> PoolBalance:
        resolve(self._plan, code)  # a specific error for initiative 4, initiative 3 or an unknown code
        return copy.deepcopy(self._balances.pools[code])

    def grant(self, grant_id: str) -> GrantBalance:
        return copy.deepcopy(self._grant(grant_id))

    # --- Pro Vest: an amount the amendment does not state, approved by the Finance Committee -------------------
    def enter_budget(self, pool_code: str, amount_ore: int, *, actor: str) -> list[DomainEvent]:
        pool, balance = self._pool(pool_code)
        if pool.budget_ore is not None:
            raise BudgetLocked(f"the budget of {pool_code} ({pool.budget_ore} øre) comes from the amendment and "
                               f"cannot be entered", pool=pool_code)
        if balance.approval is not None:
            raise BudgetLocked(f"the budget of {pool_code} was approved by the Finance Committee "
                               f"({balance.approval.reference}); a new amount needs a new approval", pool=pool_code)
        check_ore(amount_ore, field="amount_ore")
        event = self._emit(b.BUDGET_ENTERED, pool_code, allocatedOre=amount_ore, actor=require_text(actor, "actor"))
        balance.allocated = amount_ore
        return [event]

    def approve(self, pool_code: str, *, actor: str, approved_on: date, reference: str) -> list[DomainEvent]:
        """Record the Finance Committee's approval of the amount entered for ``pool_code``."""
        pool, balance = self._pool(pool_code)
        if not pool.requires_finance_committee_approval:
            raise InvalidInput(f"{pool_code} does not need Finance Committee approval", field="pool")
        if balance.approval is not None:
            raise BudgetLocked(f"{pool_code} is already approved ({balance.approval.reference})", pool=pool_code)
        if balance.allocated is None:
            raise BudgetNotSet(f"enter the amount for {pool_code} before recording the Finance Committee's "
                               f"approval of it", pool=pool_code)
        if not isinstance(approved_on, date):
            raise InvalidPeriod(f"approved_on must be a date, got {approved_on!r}")
        approval = Approval(require_text(actor, "actor"), approved_on.isoformat(),
                            require_text(reference, "reference"), balance.allocated)
        event = self._emit(b.FINANCE_COMMITTEE_APPROVED, pool_code, approvedOre=approval.amount_ore,
                           approvedOn=approval.approved_on, reference=approval.reference, actor=approval.actor)
        balance.approval = approval
        return [event]

    # --- money -----------------------------------------------------------------------------------------------
    def commit(self, grant_id: str, pool_code: str, amount_ore: int, *, award_date: date,
               actor: str) -> list[DomainEvent]:
        pool, balance = self._pool(pool_code)
        require_text(grant_id, "grant_id")
        if grant_id in self._balances.grants:
            raise GrantAlreadyCommitted(f"grant {grant_id} already has a commitment; use reallocation to change "
                                        f"it", grant_id=grant_id)
        if balance.allocated is None:
            raise BudgetNotSet(f"{pool_code} has no budget yet; a grant officer must enter it", pool=pool_code)
        if pool.requires_finance_committee_approval and balance.approval is None:
            raise FinanceCommitteeApprovalRequired(f"{pool_code} needs the Finance Committee's approval recorded "
                                                   f"before any award", pool=pool_code)
        check_ore(amount_ore, field="amount_ore")
        check_date_in_period(pool.period, award_date, what="award date", pool_code=pool_code)
        if not b.commit_allowed(balance.allocated, balance.committed, amount_ore):
            raise BudgetExceeded(f"award of {amount_ore} øre to {grant_id} exceeds the remaining budget of "
                                 f"{pool_code}: {balance.remaining} øre", pool=pool_code, remaining=balance.remaining)
        event = self._emit(b.AWARD_COMMITTED, pool_code, grantId=grant_id, amountOre=amount_ore,
                           awardDate=award_date.isoformat(), actor=require_text(actor, "actor"))
        self._balances.grants[grant_id] = GrantBalance(grant_id, pool_code, committed=amount_ore,
                                                       award_date=award_date.isoformat())
        balance.committed += amount_ore
        return [event]

    def disburse(self, grant_id: str, amount_ore: int, *, paid_on: date, actor: str) -> list[DomainEvent]:
        grant = self._live_grant(grant_id)
        check_ore(amount_ore, field="amount_ore")
        if not isinstance(paid_on, date):
            raise InvalidPeriod(f"paid_on must be a date, got {paid_on!r}")
        self._check_paid_on(grant, paid_on)
        if not b.disbursement_allowed(grant.committed, grant.disbursed, amount_ore):
            raise DisbursementExceedsCommitment(
                f"disbursement of {amount_ore} øre to {grant_id} exceeds its undisbursed commitment of "
                f"{grant.undisbursed} øre", grant_id=grant_id, undisbursed=grant.undisbursed)
        event = self._emit(b.DISBURSEMENT_MADE, grant.pool, grantId=grant_id, amountOre=amount_ore,
                           paidOn=paid_on.isoformat(), actor=require_text(actor, "actor"))
        grant.disbursed += amount_ore
        self._balances.pools[grant.pool].disbursed += amount_ore
        return [event]

    def reallocate(self, from_grant: str, to_grant: str | None, amount_ore: int, *, actor: str,
                   reason: str) -> list[DomainEvent]:
        """Move undisbursed commitment to another grant of the same pool, or (``to_grant=None``) release it."""
        source = self._live_grant(from_grant)
        target = self._live_grant(to_grant) if to_grant is not None else None
        if target is not None and target.pool != source.pool:
            raise PoolMismatch(f"cannot move commitment from {from_grant} ({source.pool}) to {to_grant} "
                               f"({target.pool}): reallocation stays within one pool", pool=source.pool)
        if to_grant == from_grant:
            raise InvalidInput(f"cannot reallocate grant {from_grant} to itself", field="to_grant")
        check_ore(amount_ore, field="amount_ore")
        if not b.release_allowed(source.committed, source.disbursed, amount_ore):
            raise InsufficientCommitment(f"cannot move {amount_ore} øre from {from_grant}: only {source.undisbursed} "
                                         f"øre of its commitment is undisbursed", grant_id=from_grant)
        event = self._emit(b.COMMITMENT_REALLOCATED, source.pool, fromGrantId=from_grant, toGrantId=to_grant,
                           amountOre=amount_ore, actor=require_text(actor, "actor"),
                           reason=require_text(reason, "reason"))
        source.committed -= amount_ore
        if target is None:
            self._balances.pools[source.pool].committed -= amount_ore
        else:
            target.committed += amount_ore
        return [event]

    def withdraw(self, grant_id: str, *, actor: str, reason: str) -> list[DomainEvent]:
        """End a commitment: its undisbursed part returns to the pool; what was paid stays committed and paid."""
        grant = self._live_grant(grant_id)
        released = grant.undisbursed
        event = self._emit(b.COMMITMENT_WITHDRAWN, grant.pool, grantId=grant_id, amountOre=released,
                           actor=require_text(actor, "actor"), reason=require_text(reason, "reason"))
        grant.committed -= released
        grant.withdrawn = True
        self._balances.pools[grant.pool].committed -= released
        return [event]

    # --- helpers ---------------------------------------------------------------------------------------------
    def _check_paid_on(self, grant: GrantBalance, paid_on: date) -> None:
        """A payment lies between the award and the end of the pool's period, and not beyond the horizon."""
        pool = resolve(self._plan, grant.pool)
        earliest = date.fromisoformat(grant.award_date) if grant.award_date else pool.period.start
        latest = min(d for d in (pool.period.end, self._clock().date() + self._horizon) if d is not None)
        if (earliest is not None and paid_on < earliest) or paid_on > latest:
            raise DisbursementDateNotAllowed(
                f"disbursement date {paid_on.isoformat()} for grant {grant.grant_id} must lie between the award "
                f"({earliest.isoformat() if earliest else 'any'}) and {latest.isoformat()} (the end of "
                f"{grant.pool}'s period or {self._horizon.days} days from today, whichever is earlier)",
                field="paid_on", grant_id=grant.grant_id, earliest=earliest.isoformat() if earliest else None,
                latest=latest.isoformat())

    def _pool(self, code: str) -> tuple[Pool, PoolBalance]:
        pool = resolve(self._plan, code)
        return pool, self._balances.pools[pool.code]

    def _grant(self, grant_id: str | None) -> GrantBalance:
        try:
            return self._balances.grants[grant_id]
        except (KeyError, TypeError):
            raise UnknownGrant(f"no committed grant with id {grant_id!r}", grant_id=grant_id) from None

    def _live_grant(self, grant_id: str | None) -> GrantBalance:
        grant = self._grant(grant_id)
        if grant.withdrawn:
            raise CommitmentWithdrawn(f"the commitment to grant {grant_id} was withdrawn", grant_id=grant_id)
        return grant

    def _emit(self, kind: str, pool_code: str, **data: object) -> DomainEvent:
        return DomainEvent(kind, pool_code, aware(self._clock(), "clock"), {"pool": pool_code, **data})
