"""For any sequence of ledger operations, accepted or refused: committed <= allocated per pool, disbursed <=
committed per grant, pool totals equal the sum of their grants, a refused operation changes nothing, and the
balances rebuilt from the events alone equal the running ledger."""
from datetime import date, datetime, timedelta, timezone

from hypothesis import settings, strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from services.grants.domain import balances as b, reference
from services.grants.domain.budget import Ledger
from services.grants.domain.errors import BudgetExceeded, GrantsError

PLAN = reference.load()
POOLS = ["digital-outreach-pool", "forced-labour-pool", "pro-vest-region-zealand", "cmm-mid-term-evaluation"]
GRANTS = [f"g{i}" for i in range(6)]

grant_ids = st.sampled_from(GRANTS + ["unknown"])
amounts = st.one_of(st.integers(-2, 20), st.integers(1, 5_000_000_00), st.sampled_from([0, 1, 350000000, 450000000]))
days = st.dates(date(2015, 10, 1), date(2019, 3, 31))


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = datetime(2016, 1, 1, tzinfo=timezone.utc)
        self.ledger, self.events = Ledger.open(PLAN, lambda: self.now)

    def _apply(self, operation, *, before_commit=None) -> None:
        self.now += timedelta(minutes=1)
        before = self.ledger.balances()
        try:
            self.events += operation()
        except BudgetExceeded:
            assert before_commit is not None and not before_commit(before)
            assert self.ledger.balances() == before
        except GrantsError:
            assert self.ledger.balances() == before  # refused: nothing changed, nothing emitted
        else:
            if before_commit is not None:
                assert before_commit(before)

    @rule(grant=grant_ids, pool=st.sampled_from(POOLS), amount=amounts, day=days)
    def commit(self, grant, pool, amount, day):
        def allowed(before: b.Balances) -> bool:
            balance = before.pools[pool]
            return b.commit_allowed(balance.allocated, balance.committed, amount)
        self._apply(lambda: self.ledger.commit(grant, pool, amount, award_date=day, actor="o"),
                    before_commit=allowed)

    @rule(grant=grant_ids, amount=amounts)
    def disburse(self, grant, amount):
        self._apply(lambda: self.ledger.disburse(grant, amount, paid_on=date(2017, 1, 1), actor="o"))

    @rule(source=grant_ids, to=st.one_of(st.none(), grant_ids), amount=amounts)
    def reallocate(self, source, to, amount):
        self._apply(lambda: self.ledger.reallocate(source, to, amount, actor="o", reason="r"))

    # the rules below size amounts from the current state, so that exact fits and one-over both occur often
    @rule(grant=grant_ids, pool=st.sampled_from(POOLS[:3]), eighths=st.integers(1, 9), day=days)
    def commit_part_of_remaining(self, grant, pool, eighths, day):
        remaining = self.ledger.pool(pool).remaining or 0
        self.commit(grant, pool, max(remaining * eighths // 8, 1) + (eighths == 9), day)

    @rule(grant=st.sampled_from(GRANTS), eighths=st.integers(1, 9))
    def disburse_part(self, grant, eighths):
        if grant in self.ledger.balances().grants:
            undisbursed = self.ledger.grant(grant).undisbursed
            self.disburse(grant, max(undisbursed * eighths // 8, 1) + (eighths == 9))

    @rule(source=st.sampled_from(GRANTS), to=st.one_of(st.none(), st.sampled_from(GRANTS)),
          eighths=st.integers(1, 9))
    def reallocate_part(self, source, to, eighths):
        if source in self.ledger.balances().grants:
            undisbursed = self.ledger.grant(source).undisbursed
            self.reallocate(source, to, max(undisbursed * eighths // 8, 1) + (eighths == 9))

    @rule(grant=grant_ids)
    def withdraw(self, grant):
        self._apply(lambda: self.ledger.withdraw(grant, actor="o", reason="r"))

    @rule(amount=amounts)
    def enter_pro_vest_budget(self, amount):
        self._apply(lambda: self.ledger.enter_budget("pro-vest-region-zealand", amount, actor="o"))

    @precondition(lambda self: self.ledger.pool("pro-vest-region-zealand").allocated is not None)
    @rule()
    def approve_pro_vest(self):
        self._apply(lambda: self.ledger.approve("pro-vest-region-zealand", actor="o", approved_on=date(2016, 2, 1),
                                                reference="Akt 1"))

    @invariant()
    def money_stays_within_bounds(self):
        state = self.ledger.balances()
        for code, pool in state.pools.items():
            grants = [g for g in state.grants.values() if g.pool == code]
            if pool.allocated is None:
                assert pool.committed == 0 and not grants
            else:
                assert 0 <= pool.committed <= pool.allocated
            assert pool.committed == sum(g.committed for g in grants)
            assert pool.disbursed == sum(g.disbursed for g in grants)
            if code == "pro-vest-region-zealand" and grants:
                assert pool.approval is not None and pool.approval.amount_ore == pool.allocated
        for grant in state.grants.values():
            assert 0 <= grant.disbursed <= grant.committed
            assert not grant.withdrawn or grant.committed == grant.disbursed

    @invariant()
    def events_alone_rebuild_the_ledger(self):
        assert b.recompute_balances(self.events) == self.ledger.balances()
        assert b.recompute_balances(e.as_dict() for e in self.events) == self.ledger.balances()


LedgerMachine.TestCase.settings = settings(max_examples=150, stateful_step_count=40, deadline=None)
TestLedger = LedgerMachine.TestCase
