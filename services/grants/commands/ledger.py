"""Money commands on the pool ledger: the opening balances, disbursements, reallocations, withdrawals and the
Pro Vest budget steps.

Each loads the balances of the pool it touches, lets the domain ledger decide, and writes the new balances with a
version check, the ledger entries and their outbox rows in one transaction.
"""
from __future__ import annotations

from services.grants import inputs
from services.grants.commands import Commands
from services.grants.domain.budget import Ledger
from services.grants.domain.errors import UnknownGrant
from services.grants.views import pool_view


def settle(commands: Commands, session, pool_code: str, operation) -> None:
    """Run ``operation(ledger)`` on the pool's stored balances and save its outcome; shared with the award."""
    balances, versions = commands.store.balances(session, [pool_code])
    ledger = Ledger(commands.plan, commands.clock, balances)
    events = operation(ledger)
    commands.store.save_balances(session, ledger.balances(), versions)
    commands.store.record_ledger(session, events)


class LedgerCommands(Commands):
    def open(self) -> None:
        """Write each pool's opening balance once; later starts of any instance find it there."""
        if not self.store.ledger_opened():
            ledger, events = Ledger.open(self.plan, self.clock)
            self.store.open_ledger(ledger.balances(), events)

    def disburse(self, *, grant_id, amount_ore, paid_on, actor, request_id=None) -> dict:
        amount, on, who = inputs.amount(amount_ore, "amount_ore"), inputs.day(paid_on, "paid_on"), inputs.actor(actor)
        return self._run("disburse", request_id, dict(grant_id=grant_id, amount_ore=amount, paid_on=on, actor=who),
                         self._pool_of(grant_id),
                         lambda ledger: ledger.disburse(grant_id, amount, paid_on=on, actor=who))

    def reallocate(self, *, from_grant_id, to_grant_id=None, amount_ore, actor, reason, request_id=None) -> dict:
        amount, who = inputs.amount(amount_ore, "amount_ore"), inputs.actor(actor)
        why = inputs.text(reason, "reason", limit=1000)
        return self._run("reallocate", request_id, dict(from_grant_id=from_grant_id, to_grant_id=to_grant_id,
                                                        amount_ore=amount, actor=who, reason=why),
                         self._pool_of(from_grant_id),
                         lambda ledger: ledger.reallocate(from_grant_id, to_grant_id, amount, actor=who, reason=why))

    def withdraw_commitment(self, *, grant_id, actor, reason, request_id=None) -> dict:
        who, why = inputs.actor(actor), inputs.text(reason, "reason", limit=1000)
        return self._run("withdraw_commitment", request_id, dict(grant_id=grant_id, actor=who, reason=why),
                         self._pool_of(grant_id), lambda ledger: ledger.withdraw(grant_id, actor=who, reason=why))

    def enter_budget(self, *, pool_code, amount_ore, actor, request_id=None) -> dict:
        amount = inputs.amount(amount_ore, "amount_ore")
        code, who = inputs.pool(self.plan, pool_code).code, inputs.actor(actor)
        return self._run("enter_budget", request_id, dict(pool_code=code, amount_ore=amount, actor=who), code,
                         lambda ledger: ledger.enter_budget(code, amount, actor=who))

    def approve_finance_committee(self, *, pool_code, approved_on, reference, actor, request_id=None) -> dict:
        on, ref = inputs.day(approved_on, "approved_on"), inputs.text(reference, "reference", limit=200)
        code, who = inputs.pool(self.plan, pool_code).code, inputs.actor(actor)
        return self._run("approve_finance_committee", request_id,
                         dict(pool_code=code, approved_on=on, reference=ref, actor=who), code,
                         lambda ledger: ledger.approve(code, actor=who, approved_on=on, reference=ref))

    def _pool_of(self, grant_id) -> str:
        grant = self.store.grant_balance(grant_id) if isinstance(grant_id, str) else None
        if grant is None:
            raise UnknownGrant(f"no committed grant with id {grant_id!r}", grant_id=grant_id, field="grant_id")
        return grant.pool  # a grant never changes pool, so reading it outside the transaction is safe

    def _run(self, method: str, request_id, arguments: dict, pool_code: str, operation) -> dict:
        def work(session):
            settle(self, session, pool_code, operation)
            after, _ = self.store.balances(session, [pool_code])
            return pool_view(after.pools[pool_code], after)
        return self.store.run_once(method, request_id, arguments, work)
