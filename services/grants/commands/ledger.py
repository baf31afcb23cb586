"""Money commands on the pool ledger: the opening balances, disbursements, reallocations, withdrawals and the
Pro Vest budget steps.

Each loads the balances of the pool it touches, lets the domain ledger decide, and writes the new balances with a
version check, the ledger entries and their outbox rows in one transaction.
"""
from __future__ import annotations

from services.grants import inputs
from services.grants.commands import Commands
from services.grants.domain.applications import PAYABLE, State
from services.grants.domain.budget import Ledger
from services.grants.domain.errors import UnknownGrant
from services.grants.domain.pools import resolve
from services.grants.views import application_view, grant_view, plain, pool_view


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
        """Pay part of a grant's commitment; answers the grant with its new balance. Only an awarded or active
        grant is paid, on a day between the award and the end of the pool's period (and not far ahead)."""
        amount, on, who = inputs.amount(amount_ore, "amount_ore"), inputs.day(paid_on, "paid_on"), inputs.actor(actor)

        def check(session, app):
            app.check_payable()
            return []
        return self._on_grant("disburse", request_id,
                              dict(grant_id=grant_id, amount_ore=amount, paid_on=on, actor=who), grant_id, check,
                              lambda ledger: ledger.disburse(grant_id, amount, paid_on=on, actor=who))

    def reallocate(self, *, from_grant_id, to_grant_id=None, amount_ore, actor, reason, request_id=None) -> dict:
        """Move undisbursed commitment to another grant of the pool, or release it; answers the source grant with
        its new balance."""
        amount, who = inputs.amount(amount_ore, "amount_ore"), inputs.actor(actor)
        why = inputs.text(reason, "reason", limit=1000)

        def check(session, app):
            app.check_payable()
            if to_grant_id is not None:
                target = self.store.load_application(to_grant_id, session) if isinstance(to_grant_id, str) else None
                if target is None or target[0].state not in PAYABLE:
                    raise UnknownGrant(f"no awarded or active grant with id {to_grant_id!r} to move the commitment "
                                       f"to", grant_id=to_grant_id, field="to_grant_id")
            return []
        return self._on_grant("reallocate", request_id,
                              dict(from_grant_id=from_grant_id, to_grant_id=to_grant_id, amount_ore=amount, actor=who,
                                   reason=why), from_grant_id, check,
                              lambda ledger: ledger.reallocate(from_grant_id, to_grant_id, amount, actor=who,
                                                               reason=why))

    def withdraw_commitment(self, *, grant_id, actor, reason, request_id=None) -> dict:
        """End a grant: its undisbursed commitment returns to the pool and the grant's state becomes ``withdrawn``
        (one transaction); answers the grant."""
        who, why = inputs.actor(actor), inputs.text(reason, "reason", limit=1000)

        def check(session, app):
            return [app.withdraw_grant(actor=who, clock=self.clock, reason=why)]
        return self._on_grant("withdraw_commitment", request_id, dict(grant_id=grant_id, actor=who, reason=why),
                              grant_id, check, lambda ledger: ledger.withdraw(grant_id, actor=who, reason=why))

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

    def _on_grant(self, method: str, request_id, arguments: dict, grant_id, check, operation) -> dict:
        """A money command on one grant: ``check(session, application)`` may refuse it or change the application
        (then saved version-checked, with the events it returns), then the ledger decides; answers the grant."""
        pool_code = self._pool_of(grant_id)

        def work(session):
            found = self.store.load_application(grant_id, session)
            if found is None:
                raise UnknownGrant(f"no committed grant with id {grant_id!r}", grant_id=grant_id, field="grant_id")
            app, version = found
            # a withdrawn grant: the ledger refuses it (commitment_withdrawn)
            events = check(session, app) if app.state is not State.WITHDRAWN else []
            settle(self, session, pool_code, operation)
            if events:
                self.store.save_application(session, app, version)
                for event in events:
                    self.store.emit_event(session, event, application_event_data(event, app, self.plan))
            return grant_view(application_view(app), self.store.grant_balance(grant_id, session),
                              [plain(o) for o in self.store.obligations_of(grant_id, session)])
        return self.store.run_once(method, request_id, arguments, work)


def application_event_data(event, app, plan) -> dict:
    """What application events carry (as ApplicationCommands._emit): consumers need no free text."""
    pool = resolve(plan, app.pool_code)
    return {**event.as_dict()["data"], "initiative": pool.initiative_number, "applicantId": app.applicant_id,
            "knowledgePartnerId": app.knowledge_partner_id, "requestedOre": app.requested_ore,
            "period": {"start": app.start.isoformat(), "end": app.end.isoformat()}}
