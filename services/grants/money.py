"""Money commands on the pool ledger: disbursements, reallocations, withdrawals and the Pro Vest budget steps.

Each loads the balances of the pool it touches, lets the domain ledger decide, and writes the new balances with a
version check, the ledger entries and their outbox rows in one transaction.
"""
from __future__ import annotations

from services.grants import inputs
from services.grants.domain.budget import Ledger
from services.grants.domain.errors import UnknownGrant
from services.grants.domain.events import Clock, utc_now
from services.grants.domain.pools import resolve
from services.grants.domain.reference import ActionPlan
from services.grants.storage import GrantsStore
from services.grants.views import pool_view


class MoneyCommands:
    def __init__(self, store: GrantsStore, plan: ActionPlan, clock: Clock = utc_now) -> None:
        self.store, self.plan, self.clock = store, plan, clock

    def disburse(self, *, grant_id, amount_ore, paid_on, actor, request_id=None) -> dict:
        amount, on = inputs.amount(amount_ore, "amount_ore"), inputs.day(paid_on, "paid_on")
        return self._run("disburse", request_id, self._pool_of(grant_id),
                         lambda ledger: ledger.disburse(grant_id, amount, paid_on=on, actor=actor))

    def reallocate(self, *, from_grant_id, to_grant_id=None, amount_ore, actor, reason, request_id=None) -> dict:
        amount = inputs.amount(amount_ore, "amount_ore")
        why = inputs.text(reason, "reason", limit=1000)
        pool = self._pool_of(from_grant_id)
        return self._run("reallocate", request_id, pool,
                         lambda ledger: ledger.reallocate(from_grant_id, to_grant_id, amount, actor=actor, reason=why))

    def withdraw_commitment(self, *, grant_id, actor, reason, request_id=None) -> dict:
        why = inputs.text(reason, "reason", limit=1000)
        return self._run("withdraw_commitment", request_id, self._pool_of(grant_id),
                         lambda ledger: ledger.withdraw(grant_id, actor=actor, reason=why))

    def enter_budget(self, *, pool_code, amount_ore, actor, request_id=None) -> dict:
        amount = inputs.amount(amount_ore, "amount_ore")
        code = resolve(self.plan, inputs.text(pool_code, "pool_code")).code
        return self._run("enter_budget", request_id, code,
                         lambda ledger: ledger.enter_budget(code, amount, actor=actor))

    def approve_finance_committee(self, *, pool_code, approved_on, reference, actor, request_id=None) -> dict:
        on = inputs.day(approved_on, "approved_on")
        ref = inputs.text(reference, "reference", limit=200)
        code = resolve(self.plan, inputs.text(pool_code, "pool_code")).code
        return self._run("approve_finance_committee", request_id, code,
                         lambda ledger: ledger.approve(code, actor=actor, approved_on=on, reference=ref))

    def _pool_of(self, grant_id) -> str:
        doc = self.store.db.grant_balances.find_one({"_id": grant_id}) if isinstance(grant_id, str) else None
        if doc is None:
            raise UnknownGrant(f"no committed grant with id {grant_id!r}", grant_id=grant_id, field="grant_id")
        return doc["pool"]  # a grant never changes pool, so reading it outside the transaction is safe

    def _run(self, method: str, request_id, pool_code: str, operation) -> dict:
        def work(session):
            balances, versions = self.store.balances(session, [pool_code])
            ledger = Ledger(self.plan, self.clock, balances)
            events = operation(ledger)
            self.store.save_balances(session, ledger.balances(), versions)
            self.store.record_ledger(session, events)
            after, _ = self.store.balances(session, [pool_code])
            return pool_view(after.pools[pool_code], after)
        return self.store.run_once(inputs.request_key(method, request_id), work)
