"""Use-case tests: the real screening commands and ScreeningStore on an in-memory MongoDB, with a clock the test
sets and the shipped partner policy and deadlines."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from services.screening.commands.consent import ConsentCommands
from services.screening.commands.deadlines import DeadlineSweep
from services.screening.commands.referrals import ReferralCommands
from services.screening.commands.scope import SYSTEM, Context, Scope
from services.screening.commands.screenings import ScreeningCommands
from services.screening.domain.deadlines import load_deadlines
from services.screening.domain.partners import load_policy
from services.screening.queries import ScreeningQueries
from services.screening.storage import ScreeningStore
from tests.support.memory_store import make_store

SCREENER = Scope("DK-CVR-20453044", "DK-CVR-20453044", "screener", "screener-1")
OTHER_SCREENER = Scope("DK-CVR-10000009", "DK-CVR-10000009", "screener", "screener-9")
CASEWORKER = Scope(None, "cmm", "caseworker", "cw-1")
WEA = Scope("wea", "wea", "partner_agency", "wea-1")
CMM_RECIPIENT = Scope("cmm", "cmm", "caseworker", "cw-1")
REFER = {"dr_nature_of_job_q1": "yes", "dr_wages_q1": "yes", "ec_excessive_hours_q1": "yes",
         "ec_low_or_no_salary_q1": "yes", "cd_documents_q1": "yes", "cd_debt_q1": "yes"}
WEAK_ONLY = {"dr_education_q1": "yes", "ec_excessive_hours_q1": "no"}


class Clock:
    def __init__(self) -> None:
        self.moment = datetime(2016, 9, 14, 10, 0, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta) -> None:
        self.moment += timedelta(**delta)


class World:
    def __init__(self) -> None:
        self.store = make_store(ScreeningStore, "screening")
        self.clock = Clock()
        self.policy = load_policy()
        self.deadlines = load_deadlines("1.0.0")

    def ctx(self, scope: Scope = SCREENER) -> Context:
        return Context(self.store, scope, self.policy, self.deadlines, self.clock.now)

    def screenings(self, scope=SCREENER) -> ScreeningCommands:
        return ScreeningCommands(self.ctx(scope))

    def consent(self, scope=SCREENER) -> ConsentCommands:
        return ConsentCommands(self.ctx(scope))

    def referrals(self, scope=SCREENER) -> ReferralCommands:
        return ReferralCommands(self.ctx(scope))

    def queries(self, scope=SCREENER) -> ScreeningQueries:
        return ScreeningQueries(self.ctx(scope))

    def sweep(self) -> int:
        return DeadlineSweep(self.ctx(SYSTEM)).run()

    def screen(self, answers=REFER, scope=SCREENER, **extra) -> dict:
        arguments = dict(instrument="ilo-ec-2009", answers=answers, screened_on=self.clock.now().date().isoformat(),
                         municipality="101", sector="F", actor="screener-1")
        arguments.update(extra)
        return self.screenings(scope).record(**arguments)

    def events(self, type_: str | None = None) -> list[dict]:
        rows = list(self.store.db["outbox"].find({}).sort([("order", 1)]))
        return [r for r in rows if type_ is None or r["type"] == type_ or r["type"].startswith(type_ + ".")]

    def snapshot(self) -> dict:
        db = self.store.db
        return {name: sorted(repr(sorted(d.items())) for d in db[name].find({}))
                for name in db.list_collection_names()}


@pytest.fixture
def world() -> World:
    return World()
