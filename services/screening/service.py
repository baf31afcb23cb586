"""Screening service (nameko): RPC and timer entrypoints only; the work is in commands/ and queries.py.

Every RPC request is checked against the access policy before it runs (kit.nameko_kit). A caller held to its own
organisation reaches that organisation's screenings and referrals; a partner agency only referrals sent to it.
Anything else answers as unknown."""
from __future__ import annotations

import logging

from nameko.timer import timer

from kit.nameko_kit import Caller, HealthCheck, Loaded, Store, Tracing, checked, command
from kit.retention import RecordRetention
from kit.settings import from_environment
from services.screening import inputs
from services.screening.commands.consent import ConsentCommands
from services.screening.commands.deadlines import DeadlineSweep
from services.screening.commands.referrals import ReferralCommands
from services.screening.commands.scope import SYSTEM, Context, Scope
from services.screening.commands.screenings import ScreeningCommands
from services.screening.domain.deadlines import load_deadlines
from services.screening.domain.partners import load_policy
from services.screening.queries import ScreeningQueries
from services.screening.storage import ScreeningStore

log = logging.getLogger("actionplan.screening")
SWEEP_SECONDS = from_environment("screening_sweep_s")


class ScreeningService(HealthCheck, RecordRetention):
    name = "screening"
    store = Store(ScreeningStore)
    tracing = Tracing()
    caller = Caller()
    # the partner policy (policy/partners.toml) and the deadlines in force (SCREENING_DEADLINES_VERSION, or the newest)
    rules = Loaded(lambda settings: (load_policy(), load_deadlines(settings.screening_deadlines or None)))

    @property
    def _ctx(self) -> Context:
        caller = checked(self.caller)
        principal = caller.principal
        scope = Scope(caller.organisation_scope, principal.organisation, principal.role, principal.subject)
        return Context(self.store, scope, self.rules[0], self.rules[1])

    # -- reference -------------------------------------------------------------------------------------------------
    @command
    def instruments(self) -> list:
        return ScreeningQueries(self._ctx).instruments()

    @command
    def instrument(self, *, instrument_id, version=None) -> dict:
        return ScreeningQueries(self._ctx).instrument(instrument_id, version)

    @command
    def sectors(self) -> list:
        return ScreeningQueries(self._ctx).sectors()

    # -- screenings ------------------------------------------------------------------------------------------------
    @command
    def record_screening(self, *, instrument, answers, screened_on, municipality, actor, instrument_version=None,
                         sector=None, venue_id=None, joint_inspection_id=None, language_group=None, age_band=None,
                         gender=None, identification_talk="not_offered", request_id=None) -> dict:
        return ScreeningCommands(self._ctx).record(
            instrument=instrument, answers=answers, screened_on=screened_on, municipality=municipality,
            actor=actor, instrument_version=instrument_version, sector=sector, venue_id=venue_id,
            joint_inspection_id=joint_inspection_id, language_group=language_group, age_band=age_band,
            gender=gender, identification_talk=identification_talk, request_id=request_id)

    @command
    def record_joint_inspection(self, *, inspected_on, agencies, sector, municipality, actor,
                                request_id=None) -> dict:
        return ScreeningCommands(self._ctx).joint_inspection(inspected_on=inspected_on, agencies=agencies,
                                                             sector=sector, municipality=municipality, actor=actor,
                                                             request_id=request_id)

    @command
    def record_identification_talk(self, *, screening_id, held_on, actor, request_id=None) -> dict:
        return ScreeningCommands(self._ctx).talk(screening_id=screening_id, held_on=held_on, actor=actor,
                                                 request_id=request_id)

    @command
    def screening(self, *, screening_id) -> dict:
        return ScreeningQueries(self._ctx).screening(screening_id)

    @command
    def screening_answers(self, *, screening_id) -> dict:
        return ScreeningQueries(self._ctx).answers(screening_id)

    @command
    def screenings(self, *, outcome=None, first=20, after=None) -> dict:
        return ScreeningQueries(self._ctx).screenings(outcome, first, after)

    # -- consent ---------------------------------------------------------------------------------------------------
    @command
    def grant_consent(self, *, screening_id, scope, legal_basis, actor, request_id=None) -> dict:
        return ConsentCommands(self._ctx).grant(screening_id=screening_id, scope=scope, legal_basis=legal_basis,
                                                actor=actor, request_id=request_id)

    @command
    def narrow_consent(self, *, screening_id, scope, actor, request_id=None) -> dict:
        return ConsentCommands(self._ctx).narrow(screening_id=screening_id, scope=scope, actor=actor,
                                                 request_id=request_id)

    @command
    def withdraw_consent(self, *, screening_id, actor, request_id=None) -> dict:
        return ConsentCommands(self._ctx).withdraw(screening_id=screening_id, actor=actor, request_id=request_id)

    @command
    def consent_history(self, *, screening_id) -> list:
        return ScreeningQueries(self._ctx).consent_history(screening_id)

    @command
    def consent_overrides(self, *, screening_id) -> list:
        return ScreeningQueries(self._ctx).overrides(screening_id)

    # -- referrals -------------------------------------------------------------------------------------------------
    @command
    def request_referral(self, *, screening_id, recipient, purpose, actor, override_reason=None,
                         request_id=None) -> dict:
        return ReferralCommands(self._ctx).request(screening_id=screening_id, recipient=recipient,
                                                   purpose=purpose, actor=actor, override_reason=override_reason,
                                                   request_id=request_id)

    @command
    def revoke_referral(self, *, referral_id, actor, request_id=None) -> dict:
        return ReferralCommands(self._ctx).revoke(referral_id=referral_id, actor=actor, request_id=request_id)

    @command
    def referral(self, *, referral_id) -> dict:
        return ScreeningQueries(self._ctx).referral(referral_id, as_recipient=False)

    @command
    def referrals(self, *, screening_id=None, state=None, first=20, after=None) -> dict:
        return ScreeningQueries(self._ctx).referrals(screening_id=screening_id, state=state, as_recipient=False,
                                                     first=first, after=after)

    # -- the recipient's side (a partner agency, or CMM for its own referrals) --------------------------------------
    @command
    def partner_referrals(self, *, state=None, first=20, after=None) -> dict:
        return ScreeningQueries(self._ctx).referrals(screening_id=None, state=state, as_recipient=True,
                                                     first=first, after=after)

    @command
    def partner_referral(self, *, referral_id) -> dict:
        return ScreeningQueries(self._ctx).referral(referral_id, as_recipient=True)

    @command
    def respond_to_referral(self, *, referral_id, action, actor, status=None, request_id=None) -> dict:
        return ReferralCommands(self._ctx).move(referral_id=referral_id, action=action, actor=actor, status=status,
                                                request_id=request_id)

    # -- deadlines -------------------------------------------------------------------------------------------------
    @timer(interval=SWEEP_SECONDS)
    def sweep(self) -> None:
        sent = self._sweep()
        if sent:
            log.info("sweep: %d deadlines escalated", sent)

    @command
    def run_sweep(self, *, actor, request_id=None) -> dict:
        """Run the deadline sweep now (it also runs every SCREENING_SWEEP_SECONDS); each escalation is sent once."""
        inputs.actor(actor)
        return {"escalated": self._sweep()}

    def _sweep(self) -> int:
        return DeadlineSweep(Context(self.store, SYSTEM, self.rules[0], self.rules[1])).run()


SERVICE = ScreeningService
REQUIRED_SETTINGS = ("pseudonym_key", "notes_key", "principal_key")
