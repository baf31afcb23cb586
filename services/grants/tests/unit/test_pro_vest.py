from datetime import date

import pytest

from services.grants.domain.balances import Approval, recompute_balances
from services.grants.domain.budget import Ledger
from services.grants.domain.errors import (BudgetLocked, BudgetNotSet, FinanceCommitteeApprovalRequired,
                                           InvalidAmount, InvalidInput)

PRO_VEST = "pro-vest-region-zealand"
AWARD = date(2016, 6, 1)


@pytest.fixture
def ledger(plan, clock):
    ledger, opened = Ledger.open(plan, clock)
    ledger.log = list(opened)
    return ledger


def test_the_amount_is_unknown_until_entered(ledger, plan):
    funding = plan.initiative(3).fundings[0]
    assert funding.budget_ore is None and funding.requires_finance_committee_approval
    assert ledger.pool(PRO_VEST).allocated is None
    with pytest.raises(BudgetNotSet):
        ledger.commit("pv-1", PRO_VEST, 100, award_date=AWARD, actor="o")


def test_entered_but_unapproved_blocks_awards(ledger):
    [entered] = ledger.enter_budget(PRO_VEST, 2_000_000_00, actor="officer-1")
    assert entered.type == "grants.pool_budget.entered"
    assert entered.data == {"pool": PRO_VEST, "allocatedOre": 2_000_000_00, "actor": "officer-1"}
    with pytest.raises(FinanceCommitteeApprovalRequired) as err:
        ledger.commit("pv-1", PRO_VEST, 100, award_date=AWARD, actor="o")
    assert err.value.code == "finance_committee_approval_required"
    assert ledger.pool(PRO_VEST).committed == 0


def test_full_flow_enter_approve_award(ledger, clock):
    ledger.log += ledger.enter_budget(PRO_VEST, 1_500_000_00, actor="officer-1")
    ledger.log += ledger.enter_budget(PRO_VEST, 2_000_000_00, actor="officer-1")  # corrected before approval
    [approved] = ledger.approve(PRO_VEST, actor="officer-2", approved_on=date(2016, 2, 10), reference="Akt 42")
    ledger.log.append(approved)
    assert approved.type == "grants.finance_committee.approved"
    assert approved.data == {"pool": PRO_VEST, "approvedOre": 2_000_000_00, "approvedOn": "2016-02-10",
                             "reference": "Akt 42", "actor": "officer-2"}
    assert ledger.pool(PRO_VEST).approval == Approval("officer-2", "2016-02-10", "Akt 42", 2_000_000_00)
    ledger.log += ledger.commit("pv-1", PRO_VEST, 2_000_000_00, award_date=AWARD, actor="o")
    assert ledger.pool(PRO_VEST).remaining == 0
    assert recompute_balances(ledger.log) == ledger.balances()


def test_approval_locks_the_amount_and_is_recorded_once(ledger):
    with pytest.raises(BudgetNotSet, match="before recording"):
        ledger.approve(PRO_VEST, actor="o", approved_on=date(2016, 2, 10), reference="Akt 42")
    ledger.enter_budget(PRO_VEST, 100, actor="o")
    with pytest.raises(InvalidInput, match="reference"):
        ledger.approve(PRO_VEST, actor="o", approved_on=date(2016, 2, 10), reference=" ")
    ledger.approve(PRO_VEST, actor="o", approved_on=date(2016, 2, 10), reference="Akt 42")
    with pytest.raises(BudgetLocked, match="Akt 42"):
        ledger.enter_budget(PRO_VEST, 200, actor="o")
    with pytest.raises(BudgetLocked):
        ledger.approve(PRO_VEST, actor="o", approved_on=date(2016, 2, 11), reference="Akt 43")
    assert ledger.pool(PRO_VEST).allocated == 100


def test_reference_budgets_cannot_be_overwritten_or_approved(ledger):
    with pytest.raises(BudgetLocked, match="amendment"):
        ledger.enter_budget("digital-outreach-pool", 1, actor="o")
    with pytest.raises(InvalidInput, match="does not need"):
        ledger.approve("digital-outreach-pool", actor="o", approved_on=date(2016, 1, 1), reference="x")


def test_entered_amount_is_validated(ledger):
    for bad in (0, -1, 1.5, "100"):
        with pytest.raises(InvalidAmount):
            ledger.enter_budget(PRO_VEST, bad, actor="o")
    assert ledger.pool(PRO_VEST).allocated is None
