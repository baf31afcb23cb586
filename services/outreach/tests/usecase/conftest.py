"""Use-case tests: the real outreach commands and OutreachStore on an in-memory MongoDB, with a funding check that
subclasses the real one and a clock the test sets."""
from __future__ import annotations

from datetime import date, datetime, time, timezone

import pytest

from services.outreach.commands.contacts import ContactCommands
from services.outreach.commands.scope import Context, Scope
from services.outreach.commands.tasks import TaskCommands
from services.outreach.commands.venues import VenueCommands
from services.outreach.commands.visits import VisitCommands
from services.outreach.domain.concern import load_rules
from services.outreach.domain.errors import FundingInactive, FundingUnknown
from services.outreach.funding import GrantsFunding
from services.outreach.queries import OutreachQueries
from services.outreach.storage import OutreachStore
from tests.support.memory_store import make_store

CMM = Scope("cmm", None)
PROVEST = Scope("provest", "sjaelland")
BUDGET = {"kind": "budget", "id": "cmm-own-budget"}
POOL1_GRANT = "app-" + "1" * 32
CLOSED_GRANT = "app-" + "2" * 32
POOL2_GRANT = "app-" + "3" * 32
PROVEST_GRANT = "app-" + "4" * 32


class FakeFunding(GrantsFunding):
    """The grants service's answers for a few grants, without RabbitMQ."""

    def __init__(self) -> None:
        super().__init__(settings=None)
        self.asked: list[str] = []

    def attribute(self, grant_id: str) -> dict:
        self.asked.append(grant_id)
        known = {POOL1_GRANT: (1, "digital-outreach-pool"), POOL2_GRANT: (2, "forced-labour-pool"),
                 PROVEST_GRANT: (3, "pro-vest-region-zealand")}
        if grant_id == CLOSED_GRANT:
            raise FundingInactive(f"grant {grant_id} is closed, not active; it cannot fund an activity", "funding")
        if grant_id not in known:
            raise FundingUnknown(f"no grant {grant_id}", "funding")
        number, fund = known[grant_id]
        return {"grant_id": grant_id, "initiative_number": number, "fund_code": fund}


class Clock:
    def __init__(self, day: date) -> None:
        self.day = day

    def today(self) -> date:
        return self.day

    def now(self) -> datetime:
        return datetime.combine(self.day, time(12, 0), tzinfo=timezone.utc)


class World:
    """One outreach database and the commands as a given caller sees them."""

    def __init__(self) -> None:
        self.store = make_store(OutreachStore, "outreach")
        self.funding = FakeFunding()
        self.clock = Clock(date(2016, 5, 2))
        self.rules = load_rules("1.0.0")

    def ctx(self, scope: Scope = CMM) -> Context:
        return Context(self.store, scope, self.funding, self.rules, self.clock.today, self.clock.now)

    def venues(self, scope=CMM) -> VenueCommands:
        return VenueCommands(self.ctx(scope))

    def visits(self, scope=CMM) -> VisitCommands:
        return VisitCommands(self.ctx(scope))

    def contacts(self, scope=CMM) -> ContactCommands:
        return ContactCommands(self.ctx(scope))

    def tasks(self, scope=CMM) -> TaskCommands:
        return TaskCommands(self.ctx(scope))

    def queries(self, scope=CMM) -> OutreachQueries:
        return OutreachQueries(self.ctx(scope))

    def events(self, type_: str | None = None) -> list[dict]:
        rows = list(self.store.db["outbox"].find({}).sort([("order", 1)]))
        return [r for r in rows if type_ is None or r["type"] == type_]

    def snapshot(self) -> dict:
        """Every collection's documents: a refused command must leave them all as they were."""
        db = self.store.db
        return {name: sorted((repr(sorted(d.items())) for d in db[name].find({})))
                for name in db.list_collection_names()}

    def venue(self, scope=CMM, municipality="101", kind="massage_clinic", **extra) -> dict:
        return self.venues(scope).register(kind=kind, label="Clinic on the high street", municipality=municipality,
                                           actor="worker-1", **extra)

    def visit(self, venue: str, scope=CMM, team="cmm-outreach", indicators=(), **extra) -> dict:
        arguments = dict(venue_id=venue, team_id=team, visited_on=self.clock.day.isoformat(),
                         people_met=[{"language_group": "ro", "count": 3}], materials=["health_info"],
                         health_services=[], identification_talk="offered", indicators=list(indicators),
                         follow_up_needed=False, funding=BUDGET, actor="worker-1")
        arguments.update(extra)
        return self.visits(scope).record(**arguments)


def flag_event(cluster: str, ad: str, priority: str = "high", score: float = 6.0, version: str = "1.0.0",
               city: str | None = "københavn", type_: str = "ad_triage.ad.flagged", event_id: str | None = None):
    data = {"adKey": f"dkescort.example/{ad}", "clusterId": cluster, "score": score, "priority": priority,
            "rulesetVersion": version, "city": city}
    if type_.endswith("priority_changed"):
        data.update(previousPriority="low", previousRulesetVersion=version, cause="rescore")
    return {"id": event_id or f"ev-{cluster}-{ad}-{priority}-{version}", "type": type_, "subject": data["adKey"],
            "sequence": 1, "data": data}


@pytest.fixture
def world() -> World:
    return World()
