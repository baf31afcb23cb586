"""Deadlines: the shipped file, when one is missed, and that an escalation happens once."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from services.screening.domain import deadlines as d
from services.screening.domain.errors import InvalidDeadlines

VERSION, DEADLINES = d.load_deadlines()
T0 = datetime(2025, 5, 1, 8, 0, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


def _missed(marks, now, escalated=(), applies_to="referral"):
    return [m.deadline for m in d.missed(DEADLINES, applies_to=applies_to, marks=marks, now=now,
                                         escalated=escalated)]


def test_shipped_file_loads():
    assert VERSION == "1.0.0" and d.load_deadlines("1.0.0") == (VERSION, DEADLINES)
    by_id = {x.id: x for x in DEADLINES}
    assert set(by_id) == {"identification_talk", "partner_acknowledgement", "partner_decision", "completion"}
    assert by_id["partner_acknowledgement"].within == 48 * HOUR
    assert by_id["partner_decision"].within == 336 * HOUR
    assert by_id["identification_talk"].applies_to == "screening"
    assert all(x.escalate_to == "cmm" for x in DEADLINES)


def test_unknown_version_refused():
    with pytest.raises(InvalidDeadlines):
        d.load_deadlines("9.9.9")
    with pytest.raises(InvalidDeadlines):
        d.load_deadlines("../partners")


def test_missed_once_then_suppressed():
    marks = [("requested", T0)]
    [missed] = d.missed(DEADLINES, applies_to="referral", marks=marks, now=T0 + 49 * HOUR, escalated=())
    assert missed == d.Missed("partner_acknowledgement", T0, T0 + 48 * HOUR, "cmm")
    assert _missed(marks, T0 + 49 * HOUR, escalated={"partner_acknowledgement"}) == []


def test_boundary_at_exactly_due_is_not_missed():
    assert _missed([("requested", T0)], T0 + 48 * HOUR) == []
    assert _missed([("requested", T0)], T0 + 48 * HOUR + timedelta(microseconds=1)) == ["partner_acknowledgement"]


def test_met_in_time_and_met_late_are_not_reported():
    assert _missed([("requested", T0), ("received", T0 + HOUR)], T0 + 100 * HOUR) == []
    # Met late: nothing left to act on, so not reported once met (the timeline keeps the lateness).
    assert _missed([("requested", T0), ("received", T0 + 60 * HOUR)], T0 + 61 * HOUR) == []


def test_next_deadline_starts_at_its_own_mark_and_revocation_ends_them():
    marks = [("requested", T0), ("received", T0 + HOUR)]
    assert _missed(marks, T0 + HOUR + 337 * HOUR) == ["partner_decision"]
    assert _missed(marks + [("revoked", T0 + 2 * HOUR)], T0 + 1000 * HOUR) == []
    assert _missed([("requested", T0)], T0 + 1000 * HOUR, applies_to="screening") == []


def test_screening_identification_talk_and_naive_times():
    naive = T0.replace(tzinfo=None)
    assert _missed([("refer_for_identification", naive)], T0 + 121 * HOUR, applies_to="screening") == [
        "identification_talk"]
    assert _missed([("refer_for_identification", T0), ("identification_talk_held", naive + HOUR)], T0 + 500 * HOUR,
                   applies_to="screening") == []


def test_a_met_mark_before_the_start_does_not_count():
    marks = [("identification_talk_held", T0 - HOUR), ("refer_for_identification", T0)]
    assert _missed(marks, T0 + 121 * HOUR, applies_to="screening") == ["identification_talk"]


@given(st.integers(0, 2000), st.integers(0, 2000) | st.none())
def test_missed_iff_unmet_and_past_due(elapsed_hours, received_after):
    marks = [("requested", T0)] + ([] if received_after is None else [("received", T0 + received_after * HOUR)])
    now = T0 + elapsed_hours * HOUR
    got = "partner_acknowledgement" in _missed(marks, now)
    assert got == (received_after is None and elapsed_hours > 48)


def test_invalid_file(monkeypatch, tmp_path):
    (tmp_path / "deadlines").mkdir()
    (tmp_path / "deadlines" / "2.0.0.json").write_text(
        '{"version": "2.0.0", "deadlines": [{"id": "x", "applies_to": "case", "starts": "a", "met_by": ["b"],'
        ' "within_hours": 1, "escalate_to": "cmm"}]}', encoding="utf-8")
    monkeypatch.setattr(d, "DEADLINES_DIR", tmp_path / "deadlines")
    monkeypatch.setattr(d, "read", lambda rel: __import__("json").loads((tmp_path / rel).read_text()))
    assert d.versions() == ("2.0.0",)
    with pytest.raises(InvalidDeadlines, match="applies_to"):
        d.load_deadlines()
