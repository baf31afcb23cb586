from datetime import date, datetime, timezone

import pytest

from services.grants.domain import balances as b
from services.grants.domain.budget import Ledger
from services.grants.domain.errors import (BudgetExceeded, CommitmentWithdrawn, DisbursementExceedsCommitment,
                                           GrantAlreadyCommitted, InsufficientCommitment, InvalidAmount,
                                           InvalidInput, NotAGrantPool, OutsidePeriod, PoolMismatch, UnknownGrant,
                                           UnknownPool)
from services.grants.domain.pools import resolve

DIGITAL, FORCED = "digital-outreach-pool", "forced-labour-pool"
AWARD = date(2016, 3, 1)


@pytest.fixture
def ledger(plan, clock):
    ledger, opened = Ledger.open(plan, clock)
    ledger.opened = opened
    return ledger


def test_opening_records_every_grant_pool_at_its_reference_budget(ledger, plan):
    assert {e.data["pool"]: e.data["allocatedOre"] for e in ledger.opened} == {
        DIGITAL: plan.initiative(1).budget_ore, FORCED: plan.initiative(2).budget_ore,
        "pro-vest-region-zealand": None}
    assert all(e.type == "grants.pool.opened" for e in ledger.opened)


def test_award_commits_and_remaining_falls(ledger, plan, clock):
    [event] = ledger.commit("g1", DIGITAL, 1_000_000_00, award_date=AWARD, actor="officer-1")
    assert event.type == "grants.award.committed" and event.subject == DIGITAL and event.time == clock.at
    assert event.data == {"pool": DIGITAL, "grantId": "g1", "amountOre": 1_000_000_00, "awardDate": "2016-03-01",
                          "actor": "officer-1"}
    pool = ledger.pool(DIGITAL)
    assert (pool.allocated, pool.committed, pool.remaining) == (
        plan.initiative(1).budget_ore, 1_000_000_00, plan.initiative(1).budget_ore - 1_000_000_00)


def test_award_above_remaining_names_the_remaining(ledger, plan):
    budget = plan.initiative(1).budget_ore
    ledger.commit("g1", DIGITAL, budget - 5, award_date=AWARD, actor="o")
    with pytest.raises(BudgetExceeded, match=r"remaining budget of digital-outreach-pool: 5 øre") as err:
        ledger.commit("g2", DIGITAL, 6, award_date=AWARD, actor="o")
    assert err.value.code == "budget_exceeded" and err.value.details["remaining"] == 5
    ledger.commit("g2", DIGITAL, 5, award_date=AWARD, actor="o")  # exactly the remaining fits
    assert ledger.pool(DIGITAL).remaining == 0


@pytest.mark.parametrize("day", [date(2015, 12, 31), date(2019, 1, 1)])
def test_award_date_outside_the_pool_period(ledger, day):
    with pytest.raises(OutsidePeriod, match=day.isoformat()):
        ledger.commit("g1", DIGITAL, 100, award_date=day, actor="o")
    assert ledger.pool(DIGITAL).committed == 0


def test_evaluation_and_programme_initiatives_are_not_grant_pools(ledger, plan):
    with pytest.raises(NotAGrantPool, match="evaluation") as err:
        ledger.commit("g1", "cmm-mid-term-evaluation", 100, award_date=AWARD, actor="o")
    assert err.value.code == "not_a_grant_pool"
    with pytest.raises(NotAGrantPool, match="pro-vest-region-zealand"):
        resolve(plan, "brothel-outreach-screening")
    with pytest.raises(NotAGrantPool):
        resolve(plan, "4")
    with pytest.raises(UnknownPool):
        ledger.commit("g1", "no-such-pool", 100, award_date=AWARD, actor="o")


def test_one_award_per_grant(ledger):
    ledger.commit("g1", DIGITAL, 100, award_date=AWARD, actor="o")
    with pytest.raises(GrantAlreadyCommitted):
        ledger.commit("g1", DIGITAL, 100, award_date=AWARD, actor="o")


def test_disbursement_never_exceeds_the_commitment(ledger):
    ledger.commit("g1", DIGITAL, 1000, award_date=AWARD, actor="o")
    [event] = ledger.disburse("g1", 600, paid_on=date(2016, 4, 1), actor="o")
    assert event.type == "grants.disbursement.made" and event.data["amountOre"] == 600
    with pytest.raises(DisbursementExceedsCommitment, match="400 øre"):
        ledger.disburse("g1", 401, paid_on=date(2016, 5, 1), actor="o")
    ledger.disburse("g1", 400, paid_on=date(2016, 5, 1), actor="o")
    grant = ledger.grant("g1")
    assert (grant.committed, grant.disbursed, ledger.pool(DIGITAL).disbursed) == (1000, 1000, 1000)
    with pytest.raises(UnknownGrant):
        ledger.disburse("nope", 1, paid_on=date(2016, 5, 1), actor="o")


def test_reallocation_moves_commitment_within_a_pool(ledger):
    ledger.commit("g1", DIGITAL, 1000, award_date=AWARD, actor="o")
    ledger.commit("g2", DIGITAL, 500, award_date=AWARD, actor="o")
    ledger.disburse("g1", 700, paid_on=AWARD, actor="o")
    with pytest.raises(InsufficientCommitment, match="only 300"):
        ledger.reallocate("g1", "g2", 301, actor="o", reason="underspend")
    [event] = ledger.reallocate("g1", "g2", 300, actor="o", reason="underspend")
    assert event.data == {"pool": DIGITAL, "fromGrantId": "g1", "toGrantId": "g2", "amountOre": 300, "actor": "o",
                          "reason": "underspend"}
    assert (ledger.grant("g1").committed, ledger.grant("g2").committed) == (700, 800)
    assert ledger.pool(DIGITAL).committed == 1500


def test_reducing_a_commitment_returns_money_to_the_pool(ledger):
    ledger.commit("g1", DIGITAL, 1000, award_date=AWARD, actor="o")
    [event] = ledger.reallocate("g1", None, 250, actor="o", reason="scope reduced")
    assert event.type == "grants.commitment.reallocated" and event.data["toGrantId"] is None
    assert ledger.grant("g1").committed == 750 and ledger.pool(DIGITAL).committed == 750


def test_reallocation_refusals(ledger):
    ledger.commit("g1", DIGITAL, 1000, award_date=AWARD, actor="o")
    ledger.commit("g2", FORCED, 1000, award_date=AWARD, actor="o")
    with pytest.raises(PoolMismatch):
        ledger.reallocate("g1", "g2", 1, actor="o", reason="r")
    with pytest.raises(InvalidInput):
        ledger.reallocate("g1", "g1", 1, actor="o", reason="r")
    with pytest.raises(UnknownGrant):
        ledger.reallocate("g1", "g9", 1, actor="o", reason="r")
    with pytest.raises(InvalidAmount):
        ledger.reallocate("g1", None, 0, actor="o", reason="r")
    with pytest.raises(InvalidInput, match="reason"):
        ledger.reallocate("g1", None, 1, actor="o", reason="")
    assert ledger.grant("g1").committed == 1000


def test_withdrawal_releases_the_undisbursed_part(ledger):
    ledger.commit("g1", DIGITAL, 1000, award_date=AWARD, actor="o")
    ledger.disburse("g1", 400, paid_on=AWARD, actor="o")
    [event] = ledger.withdraw("g1", actor="o", reason="project stopped")
    assert event.type == "grants.commitment.withdrawn" and event.data["amountOre"] == 600
    grant = ledger.grant("g1")
    assert (grant.committed, grant.disbursed, grant.withdrawn) == (400, 400, True)
    assert ledger.pool(DIGITAL).committed == 400
    for attempt in (lambda: ledger.withdraw("g1", actor="o", reason="again"),
                    lambda: ledger.disburse("g1", 1, paid_on=AWARD, actor="o")):
        with pytest.raises(CommitmentWithdrawn):
            attempt()


def test_balances_are_copies(ledger):
    ledger.commit("g1", DIGITAL, 1000, award_date=AWARD, actor="o")
    ledger.balances().grants["g1"].committed = 0
    ledger.pool(DIGITAL).committed = 0
    assert ledger.grant("g1").committed == 1000 and ledger.pool(DIGITAL).committed == 1000


def test_recompute_from_event_dicts(ledger):
    events = list(ledger.opened)
    events += ledger.commit("g1", DIGITAL, 1000, award_date=AWARD, actor="o")
    events += ledger.disburse("g1", 10, paid_on=AWARD, actor="o")
    assert b.recompute_balances(e.as_dict() for e in events) == ledger.balances()


def test_pure_checks_and_their_ceilings_agree():
    for allocated, committed, amount in [(100, 0, 100), (100, 1, 100), (100, 50, 50), (100, 50, 51), (100, 0, 0)]:
        via_ceiling = amount > 0 and committed <= b.commit_ceiling(allocated, amount)
        assert b.commit_allowed(allocated, committed, amount) is via_ceiling
    for committed, disbursed, amount in [(100, 0, 100), (100, 1, 100), (100, 99, 1), (100, 0, -1)]:
        via_ceiling = amount > 0 and disbursed <= b.disbursement_ceiling(committed, amount)
        assert b.disbursement_allowed(committed, disbursed, amount) is via_ceiling
    assert not b.commit_allowed(None, 0, 1)


def test_clock_must_be_aware(plan):
    with pytest.raises(InvalidInput, match="timezone"):
        Ledger.open(plan, lambda: datetime(2016, 1, 1))
    ledger, _ = Ledger.open(plan, lambda: datetime(2016, 1, 1, tzinfo=timezone.utc))
    naive = Ledger(plan, lambda: datetime(2016, 1, 1), ledger.balances())  # rehydrated with a broken clock
    with pytest.raises(InvalidInput, match="timezone"):
        naive.commit("g1", DIGITAL, 1, award_date=AWARD, actor="o")
    assert naive.pool(DIGITAL).committed == 0
