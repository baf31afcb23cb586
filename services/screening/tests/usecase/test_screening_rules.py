"""The screening commands' rules against an in-memory store: refusals write nothing, consent decides what leaves,
narrowing revokes only what relied on it, deadlines escalate once."""
from __future__ import annotations

import pytest

from kit.inputs import InvalidInput
from services.screening.domain.errors import (ConsentRequired, InvalidAnswer,
                                              InvalidContext, InvalidDate, InvalidTransition,
                                              OverrideNotAllowed, PurposeNotAllowedForAgency, ReferralExists,
                                              ScreeningError, ScreeningNotReferable, UnknownAgency,
                                              UnknownInstrument, UnknownQuestion, UnknownReferral, UnknownScreening,
                                              UnknownSector)

from services.screening.domain.instruments import instrument

from .conftest import CASEWORKER, CMM_RECIPIENT, OTHER_SCREENER, REFER, SCREENER, WEA, WEAK_ONLY

PAIR_CMM = {"recipient": "cmm", "purpose": "initial_identification"}
PAIR_WEA = {"recipient": "wea", "purpose": "labour_inspection"}


def test_a_refer_outcome_names_each_indicator_its_strength_and_the_deciding_rule(world):
    done = world.screen()
    assert done["outcome"] == "refer_for_identification" and done["rule"] == "elements_all_positive"
    assert {(f["indicator"], f["strength"]) for f in done["fired"]} >= {("ec_excessive_hours", "strong")} or all(
        f["strength"] in ("strong", "medium", "weak") for f in done["fired"])
    assert len(done["fired"]) == len(REFER)
    assert "WithholdsDocuments" in done["methods_of_control"]
    assert world.screen(WEAK_ONLY)["outcome"] == "indicators_present"
    [event] = world.events("screening.screening.recorded")[:1]
    assert "answers" not in event["envelope"]["data"]


@pytest.mark.parametrize("change, error, field", [
    (dict(instrument="no-such"), UnknownInstrument, None),
    (dict(instrument_version="9.9.9"), ScreeningError, None),
    (dict(answers={"no_such_question": "yes"}), UnknownQuestion, "answers"),
    (dict(answers={"dr_wages_q1": "maybe"}), InvalidAnswer, "answers"),
    (dict(answers={}), InvalidInput, "answers"),
    (dict(sector="Z9"), UnknownSector, "sector"),
    (dict(sector=None), InvalidContext, "sector"),
    (dict(municipality="999"), InvalidContext, "municipality"),
    (dict(screened_on="2015-12-31"), InvalidDate, "screened_on"),
    (dict(screened_on="2999-01-01"), InvalidDate, "screened_on"),
    (dict(venue_id="ven-0123456789abcdef"), InvalidContext, "venue_id"),
    (dict(joint_inspection_id="jin-0123456789abcdef"), InvalidContext, "joint_inspection_id"),
    (dict(age_band="ancient"), InvalidInput, "age_band"),
    (dict(actor="no spaces allowed"), InvalidInput, "actor"),
])
def test_bad_screening_input_gets_a_specific_error_and_writes_nothing(world, change, error, field):
    world.screen()
    before = world.snapshot()
    with pytest.raises(error) as refused:
        world.screen(**change)
    if field:
        assert refused.value.field == field
    assert world.snapshot() == before


def test_the_brothel_questionnaire_is_for_venues_only(world):
    question = instrument("brothel-questionnaire").questions[0].id
    with pytest.raises(InvalidContext) as refused:
        world.screen(instrument="brothel-questionnaire", answers={question: "yes"})
    assert refused.value.field == "venue_id"
    at_venue = world.screen(instrument="brothel-questionnaire", answers={question: "yes"}, sector=None,
                            venue_id="ven-0123456789abcdef")
    assert at_venue["context"]["kind"] == "venue" and at_venue["context"]["region"] == "hovedstaden"


def test_no_referral_leaves_without_consent_and_a_screener_may_not_override(world):
    sid = world.screen()["screening_id"]
    before = world.snapshot()
    with pytest.raises(ConsentRequired):
        world.referrals().request(screening_id=sid, recipient="cmm", purpose="initial_identification",
                                  actor="screener-1")
    with pytest.raises(OverrideNotAllowed):
        world.referrals().request(screening_id=sid, recipient="cmm", purpose="initial_identification",
                                  override_reason="Immediate danger to life reported by the worker", actor="s-1")
    with pytest.raises(PurposeNotAllowedForAgency):
        world.referrals(CASEWORKER).request(screening_id=sid, recipient="immigration", purpose="residence_decision",
                                            override_reason="x" * 50, actor="cw-1")
    with pytest.raises(UnknownAgency):
        world.referrals().request(screening_id=sid, recipient="nsa", purpose="x", actor="s-1")
    assert world.snapshot() == before


def test_a_screening_without_indicators_is_not_referable_and_another_organisation_cannot_see_it(world):
    nothing = world.screen({"dr_wages_q1": "no"})
    world.consent().grant(screening_id=nothing["screening_id"], scope=[PAIR_CMM], legal_basis="explicit_consent_written",
                          actor="s-1")
    with pytest.raises(ScreeningNotReferable):
        world.referrals().request(screening_id=nothing["screening_id"], recipient="cmm",
                                  purpose="initial_identification", actor="s-1")
    with pytest.raises(UnknownScreening):
        world.queries(OTHER_SCREENER).screening(nothing["screening_id"])


def test_narrowing_revokes_only_the_referral_that_relied_on_the_pair_taken_back(world):
    sid = world.screen()["screening_id"]
    world.consent().grant(screening_id=sid, scope=[PAIR_CMM, PAIR_WEA], legal_basis="explicit_consent_written",
                          actor="s-1")
    to_cmm = world.referrals().request(screening_id=sid, actor="s-1", **PAIR_CMM)
    to_wea = world.referrals().request(screening_id=sid, actor="s-1", **PAIR_WEA)
    with pytest.raises(ReferralExists):
        world.referrals().request(screening_id=sid, actor="s-1", **PAIR_WEA)
    narrowed = world.consent().narrow(screening_id=sid, scope=[PAIR_WEA], actor="s-1")
    assert (narrowed["in_force"], narrowed["revoked"]) == ([PAIR_CMM], 1)
    revoked = world.events("partner.wea.referral.revoked")
    assert [r["envelope"]["data"]["referralId"] for r in revoked] == [to_wea["referral_id"]]
    assert world.events("partner.cmm.referral.revoked") == []
    assert world.queries().referral(to_cmm["referral_id"], as_recipient=False)["state"] == "requested"
    with pytest.raises(InvalidTransition):
        world.referrals(WEA).move(referral_id=to_wea["referral_id"], action="acknowledge", actor="wea-1")


def test_a_partner_moves_only_referrals_sent_to_it_through_the_fhir_states(world):
    sid = world.screen()["screening_id"]
    world.consent().grant(screening_id=sid, scope=[PAIR_CMM, PAIR_WEA], legal_basis="explicit_consent_written",
                          actor="s-1")
    to_cmm = world.referrals().request(screening_id=sid, actor="s-1", **PAIR_CMM)
    with pytest.raises(UnknownReferral):
        world.referrals(WEA).move(referral_id=to_cmm["referral_id"], action="acknowledge", actor="wea-1")
    cmm = world.referrals(CMM_RECIPIENT)
    with pytest.raises(InvalidTransition):
        cmm.move(referral_id=to_cmm["referral_id"], action="complete", actor="cw-1")
    for action in ("acknowledge", "accept"):
        cmm.move(referral_id=to_cmm["referral_id"], action=action, actor="cw-1")
    done = cmm.move(referral_id=to_cmm["referral_id"], action="complete", status="PossibleVictimOfTrafficking",
                    actor="cw-1")
    assert [s["state"] for s in done["timeline"]] == ["requested", "received", "accepted", "completed"]
    assert done["decision"]["status"] == "PossibleVictimOfTrafficking" and done["decision"]["decided_by"] == "cmm"
    assert len(world.events("screening.referral.decision_recorded")) == 1
    world.consent().withdraw(screening_id=sid, actor="s-1")
    # completed, yet CMM holds its data: withdrawal still sends the revocation
    assert [r["envelope"]["data"]["referralId"] for r in world.events("partner.cmm.referral.revoked")] == [
        to_cmm["referral_id"]]


def test_deadlines_are_escalated_once_whoever_sweeps_and_however_often(world):
    sid = world.screen()["screening_id"]
    world.consent().grant(screening_id=sid, scope=[PAIR_WEA], legal_basis="explicit_consent_written", actor="s-1")
    world.referrals().request(screening_id=sid, actor="s-1", **PAIR_WEA)
    assert world.sweep() == 0
    world.clock.advance(hours=49)
    assert world.sweep() == 1  # the partner's acknowledgement (48 h); the talk's 120 h are not up
    world.clock.advance(hours=100)
    assert (world.sweep(), world.sweep()) == (1, 0)
    missed = [r["envelope"]["data"]["deadline"] for r in world.events("screening.deadline.missed")]
    assert sorted(missed) == ["identification_talk", "partner_acknowledgement"]


def test_a_talk_held_in_time_meets_the_deadline(world):
    sid = world.screen()["screening_id"]
    world.clock.advance(hours=10)
    world.screenings().talk(screening_id=sid, held_on=world.clock.now().date().isoformat(), actor="s-1")
    world.clock.advance(days=30)
    assert world.sweep() == 0


def test_a_joint_inspection_names_the_agencies_present_and_screenings_made_during_it_say_so(world):
    inspection = world.screenings(CASEWORKER).joint_inspection(
        inspected_on="2016-09-14", agencies=["police", "skat", "wea", "wea"], sector="F", municipality="101",
        actor="cw-1")
    assert (inspection["agencies"], inspection["region"]) == (["police", "skat", "wea"], "hovedstaden")
    done = world.screen(joint_inspection_id=inspection["inspection_id"])
    assert done["context"]["joint_inspection_id"] == inspection["inspection_id"]
    [event] = [r["envelope"]["data"] for r in world.events("screening.joint_inspection.recorded")]
    assert event["agencies"] == ["police", "skat", "wea"] and event["sector"] == "F"


@pytest.mark.parametrize("call, code, field", [
    (lambda w, sid: w.screenings(CASEWORKER).joint_inspection(inspected_on="2016-09-14", agencies=["fbi"],
                                                              sector="F", municipality="101", actor="cw-1"),
     "unknown_agency", "recipient"),
    (lambda w, sid: w.screenings(CASEWORKER).joint_inspection(inspected_on="2016-09-14", agencies=[], sector="F",
                                                              municipality="101", actor="cw-1"),
     "invalid_context", "agencies"),
    (lambda w, sid: w.consent().grant(screening_id=sid, scope=[PAIR_CMM], legal_basis="nodded", actor="s-1"),
     "unknown_legal_basis", "legal_basis"),
    (lambda w, sid: w.consent().grant(screening_id=sid, scope=[{"recipient": "cmm", "purpose": "tax_inspection"}],
                                      legal_basis="explicit_consent_written", actor="s-1"),
     "purpose_not_allowed_for_agency", "scope"),
    (lambda w, sid: w.consent().grant(screening_id=sid, scope=[{"recipient": "cmm"}],
                                      legal_basis="explicit_consent_written", actor="s-1"), "invalid_input", "scope"),
    (lambda w, sid: w.consent().withdraw(screening_id=sid, actor="s-1"), "consent_not_given", None),
    (lambda w, sid: w.consent().grant(screening_id="scr-0000000000000000", scope=[PAIR_CMM],
                                      legal_basis="explicit_consent_written", actor="s-1"), "unknown_screening",
     "screening_id"),
    (lambda w, sid: w.referrals(WEA).move(referral_id="ref-0000000000000000", action="acknowledge", actor="wea-1"),
     "unknown_referral", "referral_id"),
    (lambda w, sid: w.referrals(WEA).move(referral_id="ref-0000000000000000", action="approve", actor="wea-1"),
     "invalid_input", "action"),
    (lambda w, sid: w.referrals(WEA).move(referral_id="ref-0000000000000000", action="accept",
                                          status="ActualVictimOfTrafficking", actor="wea-1"), "invalid_input", "status"),
    (lambda w, sid: w.screenings().talk(screening_id=sid, held_on="2999-01-01", actor="s-1"), "invalid_date",
     "held_on"),
])
def test_bad_input_at_consent_referral_and_inspection_doors_writes_nothing(world, call, code, field):
    sid = world.screen()["screening_id"]
    before = world.snapshot()
    with pytest.raises((ScreeningError, InvalidInput)) as refused:
        call(world, sid)
    assert refused.value.code == code
    if field:
        assert refused.value.field == field
    assert world.snapshot() == before
