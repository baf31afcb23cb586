"""The grants service's use cases: each command runs the domain rules and stores the outcome in one transaction.

Nothing here knows nameko; the RPC class in service.py only forwards arguments.
"""
from __future__ import annotations

import uuid
from pymongo.errors import DuplicateKeyError

from services.grants import inputs
from services.grants.domain import applications as apps
from services.grants.domain.applications import Application, State
from services.grants.domain.budget import Ledger
from services.grants.domain.errors import InvalidInput
from services.grants.domain.events import Clock, DomainEvent, utc_now
from services.grants.domain.obligations import obligations_for
from services.grants.domain.organisations import Organisation
from services.grants.domain.pools import Pool, resolve
from services.grants.domain.reference import ActionPlan
from services.grants.storage import GrantsStore
from services.grants.views import application_view

MOVES = {"start_assessment": State.IN_ASSESSMENT, "reject": State.REJECTED, "withdraw": State.WITHDRAWN,
         "activate": State.ACTIVE, "close": State.CLOSED}


class UnknownApplication(InvalidInput):
    code = "unknown_application"


class GrantsCommands:
    def __init__(self, store: GrantsStore, plan: ActionPlan, clock: Clock = utc_now) -> None:
        self.store, self.plan, self.clock = store, plan, clock

    def open_ledger(self) -> None:
        """Write each pool's opening balance once; later starts of any instance find it there."""
        if self.store.db.pools.find_one() is not None:
            return
        ledger, events = Ledger.open(self.plan, self.clock)

        def work(session):
            self.store.save_balances(session, ledger.balances(), {})
            self.store.record_ledger(session, events)
        try:
            self.store.transaction(work)
        except DuplicateKeyError:
            pass  # another instance opened it first

    # -- organisations -----------------------------------------------------------------------------------------
    def register_organisation(self, *, org_id, name, roles, request_id=None) -> dict:
        org = Organisation(inputs.org_id(org_id, "org_id"), inputs.text(name, "name", limit=300), inputs.roles(roles))

        def work(session):
            self.store.save_organisation(session, org)
            return {"id": org.id, "name": org.name, "roles": sorted(r.value for r in org.roles)}
        return self.store.run_once(inputs.request_key("register_organisation", request_id), work)

    # -- application lifecycle ---------------------------------------------------------------------------------
    def draft_application(self, *, pool_code, applicant_id, knowledge_partner_id=None, title, description,
                          requested_ore, start, end, actor, request_id=None) -> dict:
        pool = resolve(self.plan, inputs.text(pool_code, "pool_code"))
        applicant = inputs.org_id(applicant_id, "applicant_id")
        partner = inputs.optional_org_id(knowledge_partner_id, "knowledge_partner_id")
        fields = dict(title=inputs.text(title, "title", limit=300), description=inputs.text(description, "description"),
                      requested_ore=inputs.amount(requested_ore, "requested_ore"), start=inputs.day(start, "start"),
                      end=inputs.day(end, "end"), actor=inputs.text(actor, "actor", limit=64))

        def work(session):
            directory = self.store.directory([applicant, partner], session)
            app, event = apps.draft(pool, directory, application_id=f"app-{uuid.uuid4().hex}",
                                    applicant_id=applicant, knowledge_partner_id=partner, clock=self.clock, **fields)
            self.store.insert_application(session, app)
            self._emit_application(session, event, app, pool)
            return application_view(app)
        return self.store.run_once(inputs.request_key("draft_application", request_id), work)

    def submit_application(self, *, application_id, actor, request_id=None) -> dict:
        def change(session, app, pool):
            directory = self.store.directory([app.applicant_id, app.knowledge_partner_id], session)
            return [app.submit(pool, directory, actor=actor, clock=self.clock)]
        return self._change(application_id, "submit_application", request_id, change)

    def move(self, move: str, *, application_id, actor, reason=None, request_id=None) -> dict:
        to = MOVES[move]
        reason = inputs.optional_text(reason, "reason")

        def change(session, app, pool):
            return [app.transition(to, actor=actor, clock=self.clock, reason=reason)]
        return self._change(application_id, move, request_id, change)

    def add_assessment_note(self, *, application_id, text, actor, request_id=None) -> dict:
        note = inputs.text(text, "text")

        def change(session, app, pool):
            app.add_assessment_note(author=actor, text=note, clock=self.clock)
            return []
        return self._change(application_id, "add_assessment_note", request_id, change)

    def award(self, *, application_id, amount_ore, award_date, actor, request_id=None) -> dict:
        """Award and commit in one transaction: the application is awarded only if the pool can pay."""
        amount = inputs.amount(amount_ore, "amount_ore")
        on = inputs.day(award_date, "award_date")

        def change(session, app, pool):
            event = app.transition(State.AWARDED, actor=actor, clock=self.clock)
            balances, versions = self.store.balances(session, [pool.code])
            ledger = Ledger(self.plan, self.clock, balances)
            ledger_events = ledger.commit(app.id, pool.code, amount, award_date=on, actor=actor)
            self.store.save_balances(session, ledger.balances(), versions)
            self.store.record_ledger(session, ledger_events)
            self.store.save_obligations(session, obligations_for(app, pool))
            return [event]
        return self._change(application_id, "award", request_id, change)

    # -- shared steps ----------------------------------------------------------------------------------------------
    def _change(self, application_id, method: str, request_id, change) -> dict:
        app_id = inputs.text(application_id, "application_id", limit=64)

        def work(session):
            found = self.store.load_application(app_id, session)
            if found is None:
                raise UnknownApplication(f"no application with id {app_id!r}", field="application_id")
            app, version = found
            pool = resolve(self.plan, app.pool_code)
            events = change(session, app, pool)
            self.store.save_application(session, app, version)
            for event in events:
                self._emit_application(session, event, app, pool)
            return application_view(app)
        return self.store.run_once(inputs.request_key(method, request_id), work)

    def _emit_application(self, session, event: DomainEvent, app: Application, pool: Pool) -> None:
        data = {**event.as_dict()["data"], "initiative": pool.initiative_number, "applicantId": app.applicant_id,
                "knowledgePartnerId": app.knowledge_partner_id, "requestedOre": app.requested_ore,
                "period": {"start": app.start.isoformat(), "end": app.end.isoformat()}}
        self.store.emit(session, event, data)
