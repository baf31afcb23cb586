from datetime import date, datetime, timezone

import pytest

from services.grants.domain import reference
from services.grants.domain.applications import Application, State, draft
from services.grants.domain.organisations import Directory, Organisation, Role
from services.grants.domain.pools import grant_pools

MINISTRY = "DK-CVR-20453044"
NGO = "DK-CVR-10000009"          # an applicant
UNIVERSITY = "DK-CVR-11234569"   # holds the knowledge-institution role
CONSULTANCY = "DK-CVR-12469136"  # an applicant without that role
PRO_VEST = "DK-CVR-13703701"

T0 = datetime(2016, 2, 1, 9, 0, tzinfo=timezone.utc)


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="session")
def plan():
    return reference.load()


@pytest.fixture(scope="session")
def pools(plan):
    return grant_pools(plan)


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def directory():
    return Directory([
        Organisation(MINISTRY, "Ministry for Children, Education and Gender Equality", {Role.FUNDER}),
        Organisation(NGO, "Outreach NGO", {Role.APPLICANT}),
        Organisation(UNIVERSITY, "A University", {Role.KNOWLEDGE_INSTITUTION}),
        Organisation(CONSULTANCY, "A Consultancy", {Role.APPLICANT}),
        Organisation(PRO_VEST, "Pro Vest", {Role.APPLICANT}),
    ])


def make_draft(pools, directory, clock, *, pool="digital-outreach-pool", application_id="app-1",
               applicant=NGO, partner=UNIVERSITY, requested=100_000_00, start=date(2016, 3, 1),
               end=date(2018, 6, 30)) -> Application:
    application, _ = draft(pools[pool], directory, application_id=application_id, applicant_id=applicant,
                           knowledge_partner_id=partner, title="Chat-room outreach trial",
                           description="Trial of outreach methods on digital platforms", requested_ore=requested,
                           start=start, end=end, actor="user-7f3a", clock=clock)
    return application


def advance(application: Application, pools, directory, clock, to: State) -> None:
    """Walk an application along the happy path up to ``to``."""
    path = [State.SUBMITTED, State.IN_ASSESSMENT, State.AWARDED, State.ACTIVE, State.CLOSED]
    for step in path[:path.index(to) + 1]:
        if step is State.SUBMITTED:
            application.submit(pools[application.pool_code], directory, actor="user-7f3a", clock=clock)
        else:
            application.transition(step, actor="officer-1", clock=clock, reason="")
