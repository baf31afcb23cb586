"""Consent algebra (grant, narrow, withdraw), pair checks and overrides against the shipped partner policy."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from services.screening.domain import consent as c
from services.screening.domain.errors import (ConsentNotGiven, InvalidConsent, InvalidOverride, OverrideNotAllowed,
                                              PurposeNotAllowedForAgency, UnknownAgency, UnknownLegalBasis)
from services.screening.domain.partners import load_policy

POLICY = load_policy()
ALL_PAIRS = sorted(c.Pair(a.id, p) for a in POLICY.agencies.values() for p in a.purposes)
pair_sets = st.frozensets(st.sampled_from(ALL_PAIRS), min_size=1)
REASON = "Person described locked doors and threats; at risk tonight."


def test_check_pairs_accepts_the_policy_pairs_and_collapses_duplicates():
    pairs = c.check_pairs([{"recipient": "cmm", "purpose": "initial_identification"}] * 2
                          + [{"recipient": "wea", "purpose": "labour_inspection"}], POLICY)
    assert pairs == {c.Pair("cmm", "initial_identification"), c.Pair("wea", "labour_inspection")}


@pytest.mark.parametrize("pairs, error", [
    ([], InvalidConsent),
    ([{"recipient": "nobody", "purpose": "initial_identification"}], UnknownAgency),
    ([{"recipient": "immigration", "purpose": "initial_identification"}], PurposeNotAllowedForAgency),
    ([{"recipient": "skat", "purpose": "labour_inspection"}], PurposeNotAllowedForAgency),
    ([{"recipient": "cmm"}], InvalidConsent),
    ([{"recipient": "cmm", "purpose": 3}], InvalidConsent),
    (["cmm"], InvalidConsent),
    ("cmm", InvalidConsent),
    ([{"recipient": "cmm", "purpose": "initial_identification"}] * 31, InvalidConsent),
])
def test_check_pairs_refusals_name_scope(pairs, error):
    with pytest.raises(error) as caught:
        c.check_pairs(pairs, POLICY)
    assert caught.value.field == "scope"


@given(pair_sets, pair_sets)
def test_grant_then_narrow_the_added_pairs_returns_the_earlier_scope(first, more):
    granted, _ = c.grant(c.NONE, first)
    if more <= granted.scope:
        with pytest.raises(InvalidConsent, match="already consented"):
            c.grant(granted, more)
        return
    widened, added = c.grant(granted, more)
    assert added == more - first and widened.scope == first | more
    narrowed, removed = c.narrow(widened, added)
    assert narrowed.scope == granted.scope and removed == added
    assert c.NONE.version < granted.version < widened.version < narrowed.version


@given(pair_sets, st.sampled_from(ALL_PAIRS))
def test_allows_agrees_with_the_scope(pairs, probe):
    granted, _ = c.grant(c.NONE, pairs)
    assert granted.allows(probe.recipient, probe.purpose) == (probe in pairs)


@given(pair_sets)
def test_withdraw_empties_and_returns_every_pair(pairs):
    granted, _ = c.grant(c.NONE, pairs)
    withdrawn, removed = c.withdraw(granted)
    assert withdrawn.scope == frozenset() and removed == pairs and withdrawn.version == granted.version + 1
    assert not any(withdrawn.allows(p.recipient, p.purpose) for p in ALL_PAIRS)
    with pytest.raises(ConsentNotGiven):
        c.withdraw(withdrawn)
    with pytest.raises(ConsentNotGiven):
        c.narrow(withdrawn, pairs)
    regranted, _ = c.grant(withdrawn, pairs)  # consent may be given again after a withdrawal
    assert regranted.version == withdrawn.version + 1


def test_narrow_refusals():
    cmm, wea = c.Pair("cmm", "initial_identification"), c.Pair("wea", "labour_inspection")
    current, _ = c.grant(c.NONE, frozenset({cmm, wea}))
    with pytest.raises(InvalidConsent) as caught:
        c.narrow(current, frozenset({c.Pair("police", "criminal_investigation")}))
    assert caught.value.field == "scope"
    with pytest.raises(InvalidConsent, match="withdraw"):
        c.narrow(current, frozenset({cmm, wea}))
    with pytest.raises(InvalidConsent):
        c.narrow(current, frozenset())
    with pytest.raises(ConsentNotGiven):
        c.narrow(c.NONE, frozenset({cmm}))


def test_legal_basis():
    assert c.check_legal_basis("explicit_consent_oral_interpreter", POLICY) == "explicit_consent_oral_interpreter"
    with pytest.raises(UnknownLegalBasis) as caught:
        c.check_legal_basis("implied", POLICY)
    assert caught.value.field == "legal_basis"


def test_override_allowed_returns_the_stripped_reason():
    assert c.check_override(role="caseworker", recipient="cmm", purpose="initial_identification",
                            reason=f"  {REASON}\n", policy=POLICY) == REASON
    assert c.check_override(role="caseworker", recipient="police", purpose="criminal_investigation",
                            reason=REASON, policy=POLICY) == REASON


@pytest.mark.parametrize("kwargs, error, field", [
    (dict(role="outreach_worker"), OverrideNotAllowed, "role"),
    (dict(reason="too short to audit"), InvalidOverride, "reason"),
    (dict(reason=" " * 40 + "short"), InvalidOverride, "reason"),
    (dict(reason=None), InvalidOverride, "reason"),
    (dict(recipient="wea", purpose="labour_inspection"), OverrideNotAllowed, "purpose"),
    (dict(recipient="immigration", purpose="criminal_investigation"), PurposeNotAllowedForAgency, "purpose"),
    (dict(recipient="nobody"), UnknownAgency, "recipient"),
])
def test_override_refusals(kwargs, error, field):
    args = dict(role="caseworker", recipient="cmm", purpose="initial_identification", reason=REASON, policy=POLICY)
    with pytest.raises(error) as caught:
        c.check_override(**{**args, **kwargs})
    assert caught.value.field == field
    assert REASON not in caught.value.message
