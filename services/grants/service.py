"""Grants service (nameko): RPC entrypoints only; the work is in commands, money, duties and queries."""
from __future__ import annotations

from nameko.timer import timer

from kit.errors import CommandRejected
from kit.nameko_kit import HealthCheck, Store, Tracing, command
from services.grants.commands import GrantsCommands
from services.grants.domain import reference
from services.grants.duties import ObligationCommands
from services.grants.money import MoneyCommands
from services.grants.queries import GrantsQueries
from services.grants.storage import GrantsStore
from services.grants.views import plain

PLAN = reference.load()


class GrantsStoreWithLedger(GrantsStore):
    def setup(self) -> None:
        super().setup()
        GrantsCommands(self, PLAN).open_ledger()


class GrantsService(HealthCheck):
    name = "grants"
    store = Store(GrantsStoreWithLedger)
    tracing = Tracing()

    @property
    def _commands(self):
        return GrantsCommands(self.store, PLAN)

    @property
    def _money(self):
        return MoneyCommands(self.store, PLAN)

    @property
    def _queries(self):
        return GrantsQueries(self.store, PLAN)

    # -- reference data ------------------------------------------------------------------------------------------
    @command
    def get_action_plan(self) -> dict:
        return plain(PLAN)

    # -- organisations and applications ----------------------------------------------------------------------------
    @command
    def register_organisation(self, **kwargs) -> dict:
        return self._commands.register_organisation(**kwargs)

    @command
    def draft_application(self, **kwargs) -> dict:
        return self._commands.draft_application(**kwargs)

    @command
    def submit_application(self, **kwargs) -> dict:
        return self._commands.submit_application(**kwargs)

    @command
    def move_application(self, move: str, **kwargs) -> dict:
        if move not in ("start_assessment", "reject", "withdraw", "activate", "close"):
            raise CommandRejected("invalid_arguments", f"unknown move {move!r}", "move")
        return self._commands.move(move, **kwargs)

    @command
    def add_assessment_note(self, **kwargs) -> dict:
        return self._commands.add_assessment_note(**kwargs)

    @command
    def award_application(self, **kwargs) -> dict:
        return self._commands.award(**kwargs)

    # -- money -------------------------------------------------------------------------------------------------------
    @command
    def disburse(self, **kwargs) -> dict:
        return self._money.disburse(**kwargs)

    @command
    def reallocate(self, **kwargs) -> dict:
        return self._money.reallocate(**kwargs)

    @command
    def withdraw_commitment(self, **kwargs) -> dict:
        return self._money.withdraw_commitment(**kwargs)

    @command
    def enter_pool_budget(self, **kwargs) -> dict:
        return self._money.enter_budget(**kwargs)

    @command
    def approve_finance_committee(self, **kwargs) -> dict:
        return self._money.approve_finance_committee(**kwargs)

    # -- obligations ---------------------------------------------------------------------------------------------
    @timer(interval=3600)
    def check_obligations(self) -> None:
        ObligationCommands(self.store).report_overdue()

    @command
    def report_overdue_obligations(self, today=None) -> dict:
        return {"reported": ObligationCommands(self.store).report_overdue(today)}

    @command
    def fulfil_obligation(self, **kwargs) -> dict:
        return ObligationCommands(self.store).fulfil(**kwargs)

    # -- queries ---------------------------------------------------------------------------------------------------
    @command
    def pools(self) -> list:
        return self._queries.pools()

    @command
    def recomputed_pools(self) -> list:
        return self._queries.recomputed_pools()

    @command
    def applications(self, **filters) -> list:
        return self._queries.applications(**filters)

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
REQUIRED_SETTINGS = ("pseudonym_key", "notes_key")
