"""Grants service (nameko): RPC entrypoints only, each with the keyword arguments the gateway sends; the work is in
commands/ and queries.py. Every RPC request is checked against the access policy before it runs (kit.nameko_kit);
an applicant's requests are scoped to its own organisation (``self.caller``): other organisations' applications,
grants and details answer as not found."""
from __future__ import annotations

from nameko.timer import timer

from kit.nameko_kit import Caller, HealthCheck, Store, Tracing, checked, command
from kit.retention import RecordRetention
from services.grants.commands.applications import ApplicationCommands
from services.grants.commands.ledger import LedgerCommands
from services.grants.commands.obligations import ObligationCommands
from services.grants.commands.organisations import OrganisationCommands
from services.grants.domain import reference
from services.grants.queries import GrantsQueries
from services.grants.storage import GrantsStore
from services.grants.views import plain

PLAN = reference.load()


class GrantsStoreWithLedger(GrantsStore):
    def setup(self) -> None:
        super().setup()
        LedgerCommands(self, PLAN).open()


class GrantsService(HealthCheck, RecordRetention):
    name = "grants"
    store = Store(GrantsStoreWithLedger)
    tracing = Tracing()
    caller = Caller()

    @property
    def _organisation(self) -> str | None:
        """The only organisation the caller may reach (an applicant's own), None for unrestricted callers."""
        return checked(self.caller).organisation_scope

    @property
    def _applications(self) -> ApplicationCommands:
        return ApplicationCommands(self.store, PLAN, organisation=self._organisation)

    @property
    def _ledger(self) -> LedgerCommands:
        return LedgerCommands(self.store, PLAN)

    @property
    def _obligations(self) -> ObligationCommands:
        return ObligationCommands(self.store, PLAN)

    @property
    def _queries(self) -> GrantsQueries:
        return GrantsQueries(self.store, PLAN, organisation=self._organisation)

    # -- reference data ------------------------------------------------------------------------------------------
    @command
    def get_action_plan(self) -> dict:
        return plain(PLAN)

    # -- organisations and applications ----------------------------------------------------------------------------
    @command
    def register_organisation(self, *, org_id, name, roles, actor=None, request_id=None) -> dict:
        return OrganisationCommands(self.store, PLAN).register(org_id=org_id, name=name, roles=roles, actor=actor,
                                                               request_id=request_id)

    @command
    def change_organisation(self, *, org_id, version, actor, name=None, roles=None, request_id=None) -> dict:
        return OrganisationCommands(self.store, PLAN).change(org_id=org_id, version=version, actor=actor, name=name,
                                                             roles=roles, request_id=request_id)

    @command
    def draft_application(self, *, pool_code, applicant_id, title, description, requested_ore, start, end, actor,
                          knowledge_partner_id=None, request_id=None) -> dict:
        return self._applications.draft(pool_code=pool_code, applicant_id=applicant_id,
                                        knowledge_partner_id=knowledge_partner_id, title=title,
                                        description=description, requested_ore=requested_ore, start=start, end=end,
                                        actor=actor, request_id=request_id)

    @command
    def submit_application(self, *, application_id, actor, request_id=None) -> dict:
        return self._applications.submit(application_id=application_id, actor=actor, request_id=request_id)

    @command
    def move_application(self, move, *, application_id, actor, reason=None, request_id=None) -> dict:
        return self._applications.move(move, application_id=application_id, actor=actor, reason=reason,
                                       request_id=request_id)

    @command
    def add_assessment_note(self, *, application_id, text, actor, request_id=None) -> dict:
        return self._applications.add_assessment_note(application_id=application_id, text=text, actor=actor,
                                                      request_id=request_id)

    @command
    def award_application(self, *, application_id, amount_ore, award_date, actor, reason=None,
                          request_id=None) -> dict:
        return self._applications.award(application_id=application_id, amount_ore=amount_ore,
                                        award_date=award_date, actor=actor, reason=reason, request_id=request_id)

    # -- money -------------------------------------------------------------------------------------------------------
    @command
    def disburse(self, *, grant_id, amount_ore, paid_on, actor, request_id=None) -> dict:
        return self._ledger.disburse(grant_id=grant_id, amount_ore=amount_ore, paid_on=paid_on, actor=actor,
                                     request_id=request_id)

    @command
    def reallocate(self, *, from_grant_id, amount_ore, reason, actor, to_grant_id=None, request_id=None) -> dict:
        return self._ledger.reallocate(from_grant_id=from_grant_id, to_grant_id=to_grant_id, amount_ore=amount_ore,
                                       reason=reason, actor=actor, request_id=request_id)

    @command
    def withdraw_commitment(self, *, grant_id, reason, actor, request_id=None) -> dict:
        return self._ledger.withdraw_commitment(grant_id=grant_id, reason=reason, actor=actor, request_id=request_id)

    @command
    def enter_pool_budget(self, *, pool_code, amount_ore, actor, request_id=None) -> dict:
        return self._ledger.enter_budget(pool_code=pool_code, amount_ore=amount_ore, actor=actor,
                                         request_id=request_id)

    @command
    def approve_finance_committee(self, *, pool_code, approved_on, reference, actor, request_id=None) -> dict:
        return self._ledger.approve_finance_committee(pool_code=pool_code, approved_on=approved_on,
                                                      reference=reference, actor=actor, request_id=request_id)

    # -- obligations ---------------------------------------------------------------------------------------------
    @timer(interval=3600)
    def check_obligations(self) -> None:
        self._obligations.report_overdue()

    @command
    def report_overdue_obligations(self, today=None) -> dict:
        return {"reported": self._obligations.report_overdue(today)}

    @command
    def fulfil_obligation(self, *, obligation_id, fulfilled_on, actor, request_id=None) -> dict:
        return self._obligations.fulfil(obligation_id=obligation_id, fulfilled_on=fulfilled_on, actor=actor,
                                        request_id=request_id)

    # -- queries ---------------------------------------------------------------------------------------------------
    @command
    def pools(self) -> list:
        return self._queries.pools()

    @command
    def recomputed_pools(self) -> list:
        return self._queries.recomputed_pools()

    @command
    def ledger_audit(self) -> dict:
        return self._queries.ledger_audit()

    @command
    def applications(self, *, pool_code=None, state=None, applicant_id=None) -> list:
        return self._queries.applications(pool_code=pool_code, state=state, applicant_id=applicant_id)

    @command
    def application(self, application_id) -> dict | None:
        return self._queries.application(application_id)

    @command
    def assessment_notes(self, application_id) -> list:
        return self._queries.assessment_notes(application_id)

    @command
    def grant(self, grant_id) -> dict | None:
        return self._queries.grant(grant_id)

    @command
    def organisation(self, org_id) -> dict:
        return self._queries.organisation(org_id)

    @command
    def organisations(self) -> list:
        return self._queries.organisations()

    @command
    def attribute_activity(self, grant_id) -> dict:
        return self._queries.attribute(grant_id)

    @command
    def export_360giving(self) -> str:
        return self._queries.export_360giving()

    @command
    def export_csv(self) -> str:
        return self._queries.export_csv()


SERVICE = GrantsService
REQUIRED_SETTINGS = ("pseudonym_key", "notes_key", "principal_key")
