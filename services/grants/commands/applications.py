"""The application lifecycle: draft, submit, assessment, notes, decisions and the award that commits the money.

``organisation``: the caller acts only for this organisation (an applicant, per the access policy): it drafts only
with itself as applicant, and another organisation's application answers as not found."""
from __future__ import annotations

import uuid

from services.grants import inputs
from services.grants.commands import Commands
from services.grants.commands.ledger import application_event_data, settle
from services.grants.domain import applications as apps
from services.grants.domain.applications import Application, State
from services.grants.domain.errors import UnknownApplication, UnknownOrganisation
from services.grants.domain.events import Clock, DomainEvent, utc_now
from services.grants.domain.obligations import obligations_for
from services.grants.domain.pools import Pool, resolve
from services.grants.views import application_view

MOVES = {"start_assessment": State.IN_ASSESSMENT, "reject": State.REJECTED, "withdraw": State.WITHDRAWN,
         "activate": State.ACTIVE, "close": State.CLOSED}


class ApplicationCommands(Commands):
    def __init__(self, store, plan, clock: Clock = utc_now, *, organisation: str | None = None) -> None:
        super().__init__(store, plan, clock)
        self.only_organisation = organisation  # None: for any organisation

    def _reaches(self, applicant_id: str) -> bool:
        return self.only_organisation is None or applicant_id == self.only_organisation

    def _scoped(self, arguments: dict) -> dict:
        """A scoped caller's request record is bound to its organisation too, so it never answers another's."""
        scope = self.only_organisation
        return arguments if scope is None else {**arguments, "on_behalf_of": scope}

    def draft(self, *, pool_code, applicant_id, knowledge_partner_id=None, title, description, requested_ore, start,
              end, actor, request_id=None) -> dict:
        pool = inputs.pool(self.plan, pool_code)
        applicant = inputs.org_id(applicant_id, "applicant_id")
        partner = inputs.optional_org_id(knowledge_partner_id, "knowledge_partner_id")
        fields = dict(title=inputs.text(title, "title", limit=300), description=inputs.text(description, "description"),
                      requested_ore=inputs.amount(requested_ore, "requested_ore"), start=inputs.day(start, "start"),
                      end=inputs.day(end, "end"), actor=inputs.actor(actor))
        arguments = dict(pool_code=pool.code, applicant_id=applicant, knowledge_partner_id=partner, **fields)
        if not self._reaches(applicant):
            # drafting for another organisation: answered as the domain answers an unknown one
            raise UnknownOrganisation(f"applicant: no organisation with id {applicant!r}", field="applicant",
                                      value=applicant)

        def work(session):
            directory = self.store.directory([applicant, partner], session)
            app, event = apps.draft(pool, directory, application_id=f"app-{uuid.uuid4().hex}",
                                    applicant_id=applicant, knowledge_partner_id=partner, clock=self.clock, **fields)
            self.store.insert_application(session, app)
            self._emit(session, event, app, pool)
            return application_view(app)
        return self.store.run_once("draft_application", request_id, self._scoped(arguments), work)

    def submit(self, *, application_id, actor, request_id=None) -> dict:
        who = inputs.actor(actor)

        def change(session, app, pool):
            directory = self.store.directory([app.applicant_id, app.knowledge_partner_id], session)
            return [app.submit(pool, directory, actor=who, clock=self.clock)]
        return self._change("submit_application", request_id, application_id, {"actor": who}, change)

    def move(self, move, *, application_id, actor, reason=None, request_id=None) -> dict:
        if not isinstance(move, str) or move not in MOVES:  # the gateway's enum makes this a caller's bug: the code
            raise inputs.InvalidInput(f"unknown move {move!r}", "move", "invalid_arguments")
        to, who = MOVES[move], inputs.actor(actor)
        why = inputs.optional_text(reason, "reason") or ""  # the domain records "" for no reason

        def change(session, app, pool):
            return [app.transition(to, actor=who, clock=self.clock, reason=why)]
        # the move names the request record, as before the kit: a record of one move never answers another
        return self._change(move, request_id, application_id, {"move": move, "actor": who, "reason": why}, change)

    def add_assessment_note(self, *, application_id, text, actor, request_id=None) -> dict:
        note, who = inputs.text(text, "text"), inputs.actor(actor)

        def change(session, app, pool):
            app.add_assessment_note(author=who, text=note, clock=self.clock)
            return []
        return self._change("add_assessment_note", request_id, application_id, {"text": note, "actor": who}, change)

    def award(self, *, application_id, amount_ore, award_date, actor, reason=None, request_id=None) -> dict:
        """Award and commit in one transaction: the application is awarded only if the pool can pay. An award above
        the amount applied for needs ``reason`` (recorded with the decision, encrypted at rest)."""
        amount, on, who = inputs.amount(amount_ore, "amount_ore"), inputs.day(award_date, "award_date"), \
            inputs.actor(actor)
        why = inputs.optional_text(reason, "reason", limit=1000) or ""

        def change(session, app, pool):
            event = app.award(amount, actor=who, clock=self.clock, reason=why)
            settle(self, session, pool.code,
                   lambda ledger: ledger.commit(app.id, pool.code, amount, award_date=on, actor=who))
            self.store.save_obligations(session, obligations_for(app, pool))
            return [event]
        arguments = {"amount_ore": amount, "award_date": on, "actor": who}
        if why:  # bound to the request record only when given: a retry of an award without reason stays the same
            arguments["reason"] = why
        return self._change("award", request_id, application_id, arguments, change)

    # -- shared steps ----------------------------------------------------------------------------------------------
    def _change(self, method: str, request_id, application_id, arguments: dict, change) -> dict:
        """Load the application, apply ``change`` (which returns its events), save it version-checked."""
        app_id = inputs.application_id(application_id)

        def work(session):
            found = self.store.load_application(app_id, session)
            if found is None or not self._reaches(found[0].applicant_id):
                raise UnknownApplication(f"no application with id {app_id!r}", field="application_id")
            app, version = found
            pool = resolve(self.plan, app.pool_code)
            events = change(session, app, pool)
            self.store.save_application(session, app, version)
            for event in events:
                self._emit(session, event, app, pool)
            return application_view(app)
        arguments = self._scoped({"application_id": app_id, **arguments})
        return self.store.run_once(method, request_id, arguments, work)

    def _emit(self, session, event: DomainEvent, app: Application, pool: Pool) -> None:
        """Application events carry what consumers need about the application (not its free text)."""
        self.store.emit_event(session, event, application_event_data(event, app, self.plan))
