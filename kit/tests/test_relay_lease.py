"""One relay publishes per service: the lease in ``relay_lease``, on controlled clocks."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import mongomock
import pytest

from kit.relay import LEASES, Lease


class Clock:
    def __init__(self, start=100.0):
        self.t = start

    def __call__(self):
        return self.t


@pytest.fixture
def db():
    return mongomock.MongoClient(tz_aware=True)["actionplan_grants"]


def pair(db, seconds=10, skew=timedelta(0)):
    clock_a, clock_b = Clock(), Clock(5000.0)
    base = datetime(2030, 1, 1, tzinfo=timezone.utc)
    a = Lease(db, "grants", seconds, "a", clock_a, lambda: base + timedelta(seconds=clock_a.t))
    b = Lease(db, "grants", seconds, "b", clock_b, lambda: base + skew + timedelta(seconds=clock_a.t))
    return a, b, clock_a, clock_b


def tick(seconds, *clocks):
    for clock in clocks:
        clock.t += seconds


def test_only_one_holds_and_the_holder_keeps_it_by_renewing(db):
    a, b, ca, cb = pair(db)
    assert a.refresh() and a.valid()
    assert not b.refresh() and not b.valid()
    for _ in range(30):  # a renews every pass: b never gets it however long it watches
        tick(1, ca, cb)
        assert a.refresh() and not b.refresh()
    doc = db[LEASES].find_one({"_id": "grants"})
    assert doc["holder"] == "a" and doc["expiresAt"] > datetime(2030, 1, 1, tzinfo=timezone.utc)


def test_a_stand_by_takes_over_when_the_holder_stops_renewing(db, caplog):
    a, b, ca, cb = pair(db)
    assert a.refresh() and not b.refresh()
    tick(9.9, ca, cb)
    assert not b.refresh()
    tick(0.2, ca, cb)
    assert b.refresh() and b.valid()
    assert any("took over" in r.getMessage() for r in caplog.records)
    assert not a.valid()  # a's own clock ran out too, before b could take over
    assert not a.refresh() and not a.valid()  # and renewing tells it that it lost


def test_clock_skew_between_hosts_does_not_cut_a_live_lease_short(db):
    a, b, ca, cb = pair(db, skew=timedelta(hours=1))  # b's wall clock is an hour ahead
    assert a.refresh()
    for _ in range(20):
        tick(1, ca, cb)
        assert a.refresh() and not b.refresh()


def test_a_released_lease_is_taken_at_once_and_a_dead_holders_within_the_lease_time(db):
    a, b, ca, cb = pair(db)
    assert a.refresh()
    a.release()
    assert not a.valid() and b.refresh()
    # b dies without releasing; a relay started an hour later waits one lease time of silence, by its own clock
    late = Clock()
    c = Lease(db, "grants", 10, "c", late, lambda: datetime(2030, 1, 1, 1, tzinfo=timezone.utc))
    assert not c.refresh()
    tick(10, late)
    assert c.refresh() and db[LEASES].find_one({"_id": "grants"})["holder"] == "c"


def test_an_expired_holder_renewing_before_the_stand_by_moves_keeps_it(db):
    a, b, ca, cb = pair(db)
    assert a.refresh() and not b.refresh()
    tick(12, ca, cb)  # a was stuck past its lease but renews before b looks again
    assert not a.valid()
    assert a.refresh() and a.valid()
    assert not b.refresh()  # the renewal moved the count: b starts watching again
