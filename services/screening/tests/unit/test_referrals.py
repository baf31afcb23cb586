"""Referral states (FHIR Task), decisions and the partner and revocation payloads."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, strategies as st

from services.screening.domain import referrals as r
from services.screening.domain.errors import InvalidDecision, InvalidTransition, UnknownAgency
from services.screening.domain.partners import PAYLOAD_FIELDS, load_policy

POLICY = load_policy()


@given(st.lists(st.sampled_from(r.STATES), max_size=12))
def test_only_listed_transitions_succeed_and_terminal_states_stay(targets):
    state = "requested"
    for target in targets:
        if target in r.TRANSITIONS[state]:
            r.check_transition(state, target)
            state = target
        else:
            with pytest.raises(InvalidTransition) as caught:
                r.check_transition(state, target)
            assert caught.value.field == "state"
            assert state in caught.value.message and target in caught.value.message
    if state in r.TERMINAL:
        assert all(_refused(state, t) for t in r.STATES)


def _refused(state, target):
    try:
        r.check_transition(state, target)
    except InvalidTransition:
        return True
    return False


def test_revoked_is_reachable_from_every_open_state_and_the_machine_is_closed():
    assert set(r.TRANSITIONS) == set(r.STATES)
    for state in r.STATES:
        assert ("revoked" in r.TRANSITIONS[state]) == (state not in r.TERMINAL)
        assert r.TRANSITIONS[state] <= set(r.STATES)
    assert _refused("requested", "completed") and _refused("received", "completed")
    assert _refused("nonsense", "received")


def test_decision():
    assert r.check_decision("PossibleVictimOfTrafficking", "cmm", POLICY) == r.Decision(
        "PossibleVictimOfTrafficking", "cmm")
    assert r.check_decision("NotAVictimOfTrafficking", "police", POLICY).decided_by == "police"
    with pytest.raises(InvalidDecision) as caught:
        r.check_decision("Victim", "cmm", POLICY)
    assert caught.value.field == "status"
    with pytest.raises(UnknownAgency) as caught:
        r.check_decision("ActualVictimOfTrafficking", "provest", POLICY)
    assert caught.value.field == "decided_by"


T0 = datetime(2025, 3, 4, 10, 30, tzinfo=timezone(timedelta(hours=1)))
REFERRAL = {"_id": "rf-1", "purpose": "initial_identification", "state": "requested", "requested_at": T0,
            "acknowledge_by": T0 + timedelta(hours=48), "organisation": "provest", "basis": "consent"}
SCREENING = {"instrument": "ilo-11", "version": "1.0.0", "outcome": "refer_for_identification",
             "screened_on": "2025-03-04",
             "fired": [{"indicator": "withheld_wages", "strength": "strong", "dimension": "coercion"}],
             "methods_of_control": ["debt"], "rule": "one_strong",
             "context": {"sector": "agriculture", "isic": "A01", "municipality": "0101", "region": "hovedstaden",
                         "joint_inspection": True},
             "person": {"language_group": "ro", "age_band": "25-34", "gender": "female"}}


def _leaves(node, prefix=""):
    for key, value in node.items():
        if isinstance(value, dict):
            yield from _leaves(value, f"{prefix}{key}.")
        else:
            yield f"{prefix}{key}"


def test_full_payload_names_every_field_in_utc():
    payload = r.partner_payload(referral=REFERRAL, screening=SCREENING, agency="cmm", subject_ref="sr-9")
    assert set(_leaves(payload)) == PAYLOAD_FIELDS
    assert payload["requestedAt"] == "2025-03-04T09:30:00Z"
    assert payload["acknowledgeBy"] == "2025-03-06T09:30:00Z"
    assert payload["screening"]["indicators"] == [{"id": "withheld_wages", "strength": "strong",
                                                   "dimension": "coercion"}]
    assert payload["workplace"]["jointInspection"] is True
    assert payload["referringOrganisation"] == "provest" and payload["screening"]["instrumentVersion"] == "1.0.0"


def test_missing_values_are_omitted_never_none():
    screening = {"instrument": "ilo-11", "version": "1.0.0", "outcome": "no_indicators", "context": {"sector": None},
                 "person": {}}
    referral = {**REFERRAL, "requested_at": datetime(2025, 1, 1), "organisation": None}
    payload = r.partner_payload(referral=referral, screening=screening, agency="cmm", subject_ref="sr-9")
    assert "workplace" not in payload and "person" not in payload and "referringOrganisation" not in payload
    assert payload["requestedAt"] == "2025-01-01T00:00:00Z"  # naive is UTC
    assert None not in list(_values(payload))


def _values(node):
    for value in node.values():
        yield from (_values(value) if isinstance(value, dict) else [value])


def test_revocation_payload():
    assert r.revocation_payload(referral_id="rf-1", agency="wea", subject_ref="sr-9", revoked_at=T0,
                                reason="consent_withdrawn") == {
        "referralId": "rf-1", "subjectRef": "sr-9", "agency": "wea", "revokedAt": "2025-03-04T09:30:00Z",
        "reason": "consent_withdrawn", "action": "delete"}
    with pytest.raises(ValueError):
        r.revocation_payload(referral_id="rf-1", agency="wea", subject_ref="sr-9", revoked_at=T0, reason="other")
