"""Fifty awards race for the last krone of a pool over real RPC: the pool is never over-committed."""
import json
import threading

import pytest

from services.grants.tests.service.helpers import NGO, UNIVERSITY
from tests.support.rpc import rpc_as
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack
POOL = "forced-labour-pool"  # 4.5 million DKK
RACERS = 50


def in_assessment(rpc, requested: int) -> str:
    app = rpc.grants.draft_application(pool_code=POOL, applicant_id=NGO, knowledge_partner_id=UNIVERSITY,
                                       title="Screening", description="Screening tool", requested_ore=requested,
                                       start="2016-03-01", end="2018-06-30", actor="officer-race")
    for call in (lambda: rpc.grants.submit_application(application_id=app["id"], actor="officer-race"),
                 lambda: rpc.grants.move_application("start_assessment", application_id=app["id"],
                                                     actor="officer-race")):
        call()
    return app["id"]


def test_fifty_concurrent_awards_for_the_last_krone(platform):
    with rpc_as(platform, "grant_officer", "ministry") as rpc:
        rpc.grants.register_organisation(org_id=UNIVERSITY, name="University", roles=["knowledge_institution"])
        rpc.grants.register_organisation(org_id=NGO, name="NGO", roles=["applicant"])
        big = in_assessment(rpc, 449_999_900)
        rpc.grants.award_application(application_id=big, amount_ore=449_999_900, award_date="2016-04-01",
                                     actor="officer-race")  # leaves exactly one krone
        racers = [in_assessment(rpc, 100) for _ in range(RACERS)]

    start, outcomes, lock = threading.Barrier(RACERS), [], threading.Lock()

    def race(app_id: str) -> None:
        # one connection per caller, as separate clients would have
        with rpc_as(platform, "grant_officer", "ministry", timeout=60) as own:
            start.wait()
            try:
                own.grants.award_application(application_id=app_id, amount_ore=100, award_date="2016-05-01",
                                             actor="officer-race")
                result = "awarded"
            except Exception as exc:  # nameko RemoteError carrying CommandRejected
                result = json.loads(exc.value)["code"] if getattr(exc, "exc_type", "") == "CommandRejected" \
                    else repr(exc)
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=race, args=(a,)) for a in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)

    assert sorted(set(outcomes)) == ["awarded", "budget_exceeded"], outcomes
    assert outcomes.count("awarded") == 1 and len(outcomes) == RACERS
    with rpc_as(platform, "grant_officer", "ministry") as rpc:
        pool = next(p for p in rpc.grants.pools() if p["code"] == POOL)
        states = [rpc.grants.application(a)["state"] for a in racers]
        recomputed = next(p for p in rpc.grants.recomputed_pools() if p["code"] == POOL)
    assert pool["committed_ore"] == pool["allocated_ore"] == 450_000_000 and pool["remaining_ore"] == 0
    assert recomputed["committed_ore"] == 450_000_000
    # the losers were not half-written: still in assessment, no grant, no award event
    assert states.count("awarded") == 1 and states.count("in_assessment") == RACERS - 1

    def commitments():
        records = platform.read_topic("grants.ledger", expect=5, timeout=5)
        # at-least-once delivery: a relay retry may repeat an event, always under its own id
        committed = {e["id"]: e for e in map(json.loads, (r.value for r in records))
                     if e["type"] == "grants.award.committed"}
        assert len(committed) == 2
        return list(committed.values())
    committed = eventually(commitments, 30, what="two award commitments on Kafka")
    assert sum(e["data"]["amountOre"] for e in committed) == 450_000_000
