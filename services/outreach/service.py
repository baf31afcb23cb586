"""Outreach service (nameko): RPC, Kafka and timer entrypoints only; the work is in commands/ and queries.py.

Every RPC request is checked against the access policy before it runs (kit.nameko_kit). A caller held to a region
(Pro Vest: Region Zealand) reaches only that region's venues, visits and tasks; anything elsewhere answers as
unknown, and acting elsewhere is refused with ``outside_region``."""
from __future__ import annotations

import logging

from nameko.timer import timer

from kit.consumer import kafka_consumer
from kit.nameko_kit import Caller, HealthCheck, Loaded, Store, Tracing, checked, command
from kit.retention import RecordRetention
from kit.settings import from_environment
from services.outreach import inputs
from services.outreach.commands import concern
from services.outreach.commands.contacts import ContactCommands
from services.outreach.commands.scope import UNRESTRICTED, Context, Scope, today
from services.outreach.commands.screenings import ScreeningOutcomes
from services.outreach.commands.tasks import TaskCommands
from services.outreach.commands.venues import VenueCommands
from services.outreach.commands.visits import VisitCommands
from services.outreach.domain.concern import load_rules
from services.outreach.funding import GrantsFunding
from services.outreach.queries import OutreachQueries
from services.outreach.storage import OutreachStore

log = logging.getLogger("actionplan.outreach")
SWEEP_SECONDS = from_environment("outreach_sweep_s")


class OutreachService(HealthCheck, RecordRetention):
    name = "outreach"
    store = Store(OutreachStore)
    tracing = Tracing()
    caller = Caller()
    funding = Loaded(GrantsFunding)  # the grants service's attribution check, holding only this process's settings
    # the concern rule set in force (OUTREACH_CONCERN_RULES_VERSION, or the newest)
    rules = Loaded(lambda settings: load_rules(settings.outreach_concern_rules or None))

    @property
    def _ctx(self) -> Context:
        caller = checked(self.caller)
        scope = Scope(caller.principal.organisation, caller.region_scope)
        return Context(self.store, scope, self.funding, self.rules)

    @property
    def _system(self) -> Context:
        """Consumers and timers act for the platform, not for a caller."""
        return Context(self.store, UNRESTRICTED, self.funding, self.rules)

    # -- reference -------------------------------------------------------------------------------------------------
    @command
    def reference(self) -> dict:
        return OutreachQueries(self._ctx).reference()

    # -- venues ----------------------------------------------------------------------------------------------------
    @command
    def register_venue(self, *, kind, label, municipality, actor, address=None, request_id=None) -> dict:
        return VenueCommands(self._ctx).register(kind=kind, label=label, municipality=municipality, actor=actor,
                                                 address=address, request_id=request_id)

    @command
    def venue(self, *, venue_id) -> dict:
        return OutreachQueries(self._ctx).venue(venue_id)

    @command
    def venues(self, *, region=None, of_concern=None, kind=None, first=20, after=None) -> dict:
        return OutreachQueries(self._ctx).venues(region, of_concern, kind, first, after)

    @command
    def venue_address(self, *, venue_id) -> dict:
        return OutreachQueries(self._ctx).address(venue_id)

    @command
    def venue_concern(self, *, venue_id) -> dict:
        return OutreachQueries(self._ctx).concern(venue_id)

    @command
    def link_cluster(self, *, venue_id, cluster_id, actor, request_id=None) -> dict:
        return VenueCommands(self._ctx).link_cluster(venue_id=venue_id, cluster_id=cluster_id, actor=actor,
                                                     request_id=request_id)

    @command
    def record_inspection_note(self, *, venue_id, on, agencies, finding, actor, note=None, request_id=None) -> dict:
        return VenueCommands(self._ctx).inspection_note(venue_id=venue_id, on=on, agencies=agencies, finding=finding,
                                                        actor=actor, note=note, request_id=request_id)

    @command
    def record_identification(self, *, venue_id, on, persons, actor, request_id=None) -> dict:
        return VenueCommands(self._ctx).identification(venue_id=venue_id, on=on, persons=persons, actor=actor,
                                                       request_id=request_id)

    # -- visits ----------------------------------------------------------------------------------------------------
    @command
    def plan_visit(self, *, venue_id, team_id, due_on, actor, request_id=None) -> dict:
        return VisitCommands(self._ctx).plan(venue_id=venue_id, team_id=team_id, due_on=due_on, actor=actor,
                                             request_id=request_id)

    @command
    def visit_plan(self, *, team_id=None, region=None, state=None, due_before=None, first=20, after=None) -> dict:
        return OutreachQueries(self._ctx).plan(team_id, region, state, due_before, first, after)

    @command
    def record_visit(self, *, venue_id, team_id, visited_on, people_met, materials, health_services,
                     identification_talk, indicators, follow_up_needed, funding, actor, screening_outcome=None,
                     visit_id=None, request_id=None) -> dict:
        return VisitCommands(self._ctx).record(
            venue_id=venue_id, team_id=team_id, visited_on=visited_on, people_met=people_met, materials=materials,
            health_services=health_services, identification_talk=identification_talk, indicators=indicators,
            follow_up_needed=follow_up_needed, funding=funding, actor=actor, screening_outcome=screening_outcome,
            visit_id=visit_id, request_id=request_id)

    @command
    def visit(self, *, visit_id) -> dict:
        return OutreachQueries(self._ctx).visit(visit_id)

    @command
    def visits(self, *, venue_id=None, team_id=None, first=20, after=None) -> dict:
        return OutreachQueries(self._ctx).visits(venue_id, team_id, first, after)

    # -- contacts --------------------------------------------------------------------------------------------------
    @command
    def record_contact(self, *, channel, occurred_on, outcome, funding, actor, venue_id=None, visit_id=None,
                       task_id=None, language_group=None, follow_up_code=None, follow_up_consent=None,
                       request_id=None) -> dict:
        return ContactCommands(self._ctx).record(
            channel=channel, occurred_on=occurred_on, outcome=outcome, funding=funding, actor=actor,
            venue_id=venue_id, visit_id=visit_id, task_id=task_id, language_group=language_group,
            follow_up_code=follow_up_code, follow_up_consent=follow_up_consent, request_id=request_id)

    @command
    def record_identification_talk(self, *, held_on, actor, venue_id=None, task_id=None, follow_up_code=None,
                                   request_id=None) -> dict:
        return ContactCommands(self._ctx).talk(held_on=held_on, actor=actor, venue_id=venue_id, task_id=task_id,
                                               follow_up_code=follow_up_code, request_id=request_id)

    @command
    def withdraw_follow_up_consent(self, *, follow_up_code, actor, request_id=None) -> dict:
        return ContactCommands(self._ctx).withdraw(follow_up_code=follow_up_code, actor=actor, request_id=request_id)

    @command
    def follow_up(self, *, follow_up_code) -> dict:
        return ContactCommands(self._ctx).follow_up(follow_up_code=follow_up_code)

    # -- digital outreach tasks ------------------------------------------------------------------------------------
    @kafka_consumer("ad_triage.ad.flagged", "ad_triage.ad.priority_changed")
    def on_ad(self, event: dict) -> None:
        changed = TaskCommands(self._system).on_ad(event)
        log.info("event %s %s", event["id"], "applied" if changed else "already applied")

    @kafka_consumer("screening.screening.recorded")
    def on_screening(self, event: dict) -> None:
        changed = ScreeningOutcomes(self._system).on_screening(event)
        log.info("event %s %s", event["id"], "applied" if changed else "already applied")

    @command
    def tasks(self, *, state=None, priority=None, first=20, after=None) -> dict:
        return OutreachQueries(self._ctx).tasks(state, priority, first, after)

    @command
    def task(self, *, task_id) -> dict:
        return OutreachQueries(self._ctx).task(task_id)

    @command
    def record_attempt(self, *, task_id, channel, at, outcome, funding, actor, request_id=None) -> dict:
        return ContactCommands(self._ctx).attempt(task_id=task_id, channel=channel, at=at, outcome=outcome,
                                                  funding=funding, actor=actor, request_id=request_id)

    @command
    def close_task(self, *, task_id, reason, actor, request_id=None) -> dict:
        return TaskCommands(self._ctx).close(task_id=task_id, reason=reason, actor=actor, request_id=request_id)

    # -- figures and sweeps ----------------------------------------------------------------------------------------
    @command
    def activity(self, *, from_on=None, to_on=None) -> dict:
        return OutreachQueries(self._ctx).activity(from_on, to_on)

    @timer(interval=SWEEP_SECONDS)
    def sweep(self) -> None:
        self._sweep()

    @command
    def run_sweep(self, *, actor, request_id=None) -> dict:
        """Run the sweep now (it also runs every OUTREACH_SWEEP_SECONDS); each change is made once anyway."""
        inputs.actor(actor)
        return self._sweep()

    def _sweep(self, on=None) -> dict:
        day = on or today()
        overdue = VisitCommands(self._system).sweep_overdue(day)
        changed = concern.sweep(self.store, self.rules, day)
        if overdue or changed:
            log.info("sweep: %d visits overdue, %d venues changed concern level", overdue, changed)
        return {"overdue": overdue, "concern_changed": changed}


SERVICE = OutreachService
REQUIRED_SETTINGS = ("pseudonym_key", "notes_key", "principal_key")
