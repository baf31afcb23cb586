"""Use-case tests: the real commands and the real GrantsStore on an in-memory MongoDB, in milliseconds.

Transactions are all-or-nothing here as on the server (tests.support.memory_store), so "refused and wrote nothing"
is asserted on the stored documents and outbox rows themselves.
"""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from services.grants.commands.applications import ApplicationCommands
from services.grants.commands.ledger import LedgerCommands
from services.grants.commands.obligations import ObligationCommands
from services.grants.commands.organisations import OrganisationCommands
from services.grants.domain import reference
from services.grants.domain.events import fixed_clock
from services.grants.queries import GrantsQueries
from services.grants.storage import GrantsStore
from tests.support.memory_store import make_store

NGO = "DK-CVR-10000009"
UNIVERSITY = "DK-CVR-11234569"
POOL = "digital-outreach-pool"  # 3.5 million DKK, needs a knowledge-institution partner
OFFICER = "officer-1"
CLOCK = fixed_clock(datetime(2016, 2, 1, 9, 0, tzinfo=timezone.utc))


@pytest.fixture(scope="session")
def plan():
    return reference.load()


@pytest.fixture
def store(plan):
    store = make_store(GrantsStore, "grants")
    LedgerCommands(store, plan, CLOCK).open()  # as the service's store does when it starts
    OrganisationCommands(store, plan, CLOCK).register(org_id=NGO, name="Outreach NGO", roles=["applicant"])
    OrganisationCommands(store, plan, CLOCK).register(org_id=UNIVERSITY, name="University",
                                                      roles=["knowledge_institution"])
    return store


@pytest.fixture
def applications(store, plan):
    return ApplicationCommands(store, plan, CLOCK)


@pytest.fixture
def ledger(store, plan):
    return LedgerCommands(store, plan, CLOCK)


@pytest.fixture
def obligations(store, plan):
    return ObligationCommands(store, plan, CLOCK)


@pytest.fixture
def queries(store, plan):
    return GrantsQueries(store, plan)


def draft_arguments(**changes) -> dict:
    return {"pool_code": POOL, "applicant_id": NGO, "knowledge_partner_id": UNIVERSITY, "title": "Outreach",
            "description": "Chat-room methods", "requested_ore": 40_000_000, "start": "2016-03-01",
            "end": "2018-06-30", "actor": OFFICER, **changes}


@pytest.fixture
def in_assessment(applications):
    """A submitted application in assessment; returns its id."""
    app_id = applications.draft(**draft_arguments())["id"]
    applications.submit(application_id=app_id, actor=OFFICER)
    applications.move("start_assessment", application_id=app_id, actor=OFFICER)
    return app_id


@pytest.fixture
def awarded(applications, in_assessment):
    applications.award(application_id=in_assessment, amount_ore=40_000_000, award_date="2016-04-01", actor=OFFICER)
    return in_assessment


def outbox(store, event_type: str | None = None) -> list[dict]:
    """Staged events in the order the relay would publish them, as (type, subject, data) rows."""
    rows = store.db.outbox.find({} if event_type is None else {"type": event_type}).sort("order", 1)
    return [{"type": r["type"], "subject": r["key"], "data": r["envelope"]["data"]} for r in rows]


def snapshot(store) -> dict:
    """Every stored document of every collection: equal before and after means nothing was written."""
    return {name: list(store.db[name].find().sort("_id", 1)) for name in sorted(store.db.list_collection_names())}
