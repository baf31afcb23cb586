"""Screening on the real stack: a forced-labour screening that says "refer", consent, referrals on the partner
topics read with a librdkafka client as a partner would, a partner's answer, and revocations on withdrawal."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone

import pytest
from nameko.exceptions import RemoteError
from pymongo import MongoClient

from tests.faults.support import read_all
from tests.support.partners import check_against_asyncapi, check_redaction, read_partner_topic
from tests.support.rpc import rpc_as

pytestmark = pytest.mark.stack
TODAY = datetime.now(timezone.utc).date().isoformat()
SCREENER = ("screener", "DK-CVR-20453044")
REFER = {"dr_nature_of_job_q1": "yes", "dr_wages_q1": "yes", "ec_excessive_hours_q1": "yes",
         "ec_low_or_no_salary_q1": "yes", "cd_documents_q1": "yes", "cd_debt_q1": "yes", "cr_violence_q1": "no"}
PARTNER_TYPES = ("shared", "revoked")


def code_of(exc: RemoteError) -> dict:
    return json.loads(exc.value)


def rid(kind: str) -> str:
    return f"{kind}-{uuid.uuid4().hex}"


def construction_screening(rpc, answers=REFER) -> dict:
    return rpc.screening.record_screening(instrument="ilo-ec-2009", answers=answers, screened_on=TODAY,
                                          municipality="101", sector="F", language_group="ro", age_band="25_34",
                                          gender="male", identification_talk="offered", actor="screener-1",
                                          request_id=rid("scr"))


def partner_events(platform, agency: str) -> list[dict]:
    topic = f"partner.{agency}.referrals"
    records = read_partner_topic(platform.env["KAFKA_BOOTSTRAP_SERVERS"], platform.topic(topic))
    for record in records:
        check_against_asyncapi(topic, record["event"])
        assert record["key"] == record["event"]["data"]["referralId"]
    return records


def test_refer_consent_referrals_on_partner_topics_answer_and_withdrawal_revokes_on_exactly_those_topics(platform):
    with rpc_as(platform, *SCREENER) as rpc:
        screening = construction_screening(rpc)
        sid = screening["screening_id"]
        assert screening["outcome"] == "refer_for_identification"
        assert screening["rule"] == "elements_all_positive" and screening["explanation"]
        assert {f["dimension"] for f in screening["fired"]} == {"deceptive_recruitment", "exploitative_conditions",
                                                                "coercion_at_destination"}
        with pytest.raises(RemoteError) as refused:
            rpc.screening.request_referral(screening_id=sid, recipient="cmm", purpose="initial_identification",
                                           actor="screener-1")
        assert code_of(refused.value)["code"] == "consent_required"
        rpc.screening.grant_consent(screening_id=sid, legal_basis="explicit_consent_oral_interpreter",
                                    scope=[{"recipient": "cmm", "purpose": "initial_identification"},
                                           {"recipient": "wea", "purpose": "labour_inspection"}],
                                    actor="screener-1", request_id=rid("consent"))
        to_cmm = rpc.screening.request_referral(screening_id=sid, recipient="cmm", purpose="initial_identification",
                                                actor="screener-1", request_id=rid("ref"))
        to_wea = rpc.screening.request_referral(screening_id=sid, recipient="wea", purpose="labour_inspection",
                                                actor="screener-1", request_id=rid("ref"))
    assert (to_cmm["state"], to_cmm["basis"], to_wea["recipient"]) == ("requested", "consent", "wea")

    with rpc_as(platform, "partner_agency", "wea") as rpc:
        seen = rpc.screening.partner_referrals()["items"]
        assert [r["referral_id"] for r in seen] == [to_wea["referral_id"]]
        with pytest.raises(RemoteError) as foreign:
            rpc.screening.partner_referral(referral_id=to_cmm["referral_id"])
        received = rpc.screening.respond_to_referral(referral_id=to_wea["referral_id"], action="acknowledge",
                                                     actor="wea-1", request_id=rid("ack"))
    assert code_of(foreign.value)["code"] == "unknown_referral"
    assert [s["state"] for s in received["timeline"]] == ["requested", "received"]

    with rpc_as(platform, *SCREENER) as rpc:
        withdrawn = rpc.screening.withdraw_consent(screening_id=sid, actor="screener-1", request_id=rid("wd"))
    assert (withdrawn["in_force"], withdrawn["revoked"]) == ([], 2)

    cmm, wea = partner_events(platform, "cmm"), partner_events(platform, "wea")
    for agency, records, referral in (("cmm", cmm, to_cmm), ("wea", wea, to_wea)):
        assert [r["event"]["type"] for r in records] == [f"partner.{agency}.referral.shared",
                                                         f"partner.{agency}.referral.revoked"]
        shared, revoked = records[0]["event"]["data"], records[1]["event"]["data"]
        check_redaction(agency, shared)
        assert shared["referralId"] == revoked["referralId"] == referral["referral_id"]
        assert shared["subjectRef"] == revoked["subjectRef"] and revoked["reason"] == "consent_withdrawn"
    assert cmm[0]["event"]["data"]["subjectRef"] != wea[0]["event"]["data"]["subjectRef"]
    assert "person" in cmm[0]["event"]["data"] and "person" not in wea[0]["event"]["data"]
    assert cmm[0]["event"]["data"]["screening"]["outcome"] == "refer_for_identification"
    for agency in ("police", "skat", "siri", "immigration"):
        assert partner_events(platform, agency) == []  # no data went there, so no revocation either


def test_an_override_by_a_caseworker_is_accepted_logged_and_published_without_its_reason(platform):
    with rpc_as(platform, *SCREENER) as rpc:
        sid = construction_screening(rpc)["screening_id"]
        with pytest.raises(RemoteError) as screener_override:
            rpc.screening.request_referral(screening_id=sid, recipient="police", purpose="criminal_investigation",
                                           override_reason="Life at risk: the worker reports threats of violence "
                                                           "against family members", actor="screener-1")
    assert code_of(screener_override.value)["code"] == "override_not_allowed"
    reason = "Life at risk: the worker reports threats of violence against family members today"
    with rpc_as(platform, "caseworker", "cmm") as rpc:
        with pytest.raises(RemoteError) as short:
            rpc.screening.request_referral(screening_id=sid, recipient="police", purpose="criminal_investigation",
                                           override_reason="because", actor="cw-1")
        referral = rpc.screening.request_referral(screening_id=sid, recipient="police",
                                                  purpose="criminal_investigation", override_reason=reason,
                                                  actor="cw-1", request_id=rid("ovr"))
        overrides = rpc.screening.consent_overrides(screening_id=sid)
    assert code_of(short.value)["code"] == "invalid_override"
    assert referral["basis"] == "override"
    assert [(o["referral_id"], o["role"], o["reason"]) for o in overrides] == [
        (referral["referral_id"], "caseworker", reason)]
    consents = [json.loads(r.value) for r in read_all(platform.env["KAFKA_BOOTSTRAP_SERVERS"],
                                                      platform.topic("screening.consents"))]
    overridden = [e for e in consents if e["type"] == "screening.consent.overridden"]
    assert [e["data"]["referralId"] for e in overridden] == [referral["referral_id"]]
    police = partner_events(platform, "police")
    assert [r["event"]["data"]["basis"] for r in police] == ["override"]
    everything = json.dumps(consents) + json.dumps([r["event"] for r in police])
    assert "threats of violence" not in everything


def test_immigration_gets_nothing_about_a_person_even_when_asked(platform):
    with rpc_as(platform, "caseworker", "cmm") as rpc:
        sid = construction_screening(rpc)["screening_id"]
        with pytest.raises(RemoteError) as consent:
            rpc.screening.grant_consent(screening_id=sid, legal_basis="explicit_consent_written",
                                        scope=[{"recipient": "immigration", "purpose": "residence_decision"}],
                                        actor="cw-1")
        with pytest.raises(RemoteError) as referral:
            rpc.screening.request_referral(screening_id=sid, recipient="immigration", purpose="residence_decision",
                                           override_reason="x" * 40, actor="cw-1")
    assert code_of(consent.value)["code"] == code_of(referral.value)["code"] == "purpose_not_allowed_for_agency"
    assert partner_events(platform, "immigration") == []


def test_a_missed_acknowledgement_is_escalated_once_across_sweeps_and_a_restart(platform):
    with rpc_as(platform, "caseworker", "cmm") as rpc:
        sid = construction_screening(rpc)["screening_id"]
        rpc.screening.grant_consent(screening_id=sid, legal_basis="explicit_consent_written",
                                    scope=[{"recipient": "skat", "purpose": "tax_inspection"}], actor="cw-1")
        referral = rpc.screening.request_referral(screening_id=sid, recipient="skat", purpose="tax_inspection",
                                                  actor="cw-1")
    settings = platform.settings("screening")
    db = MongoClient(settings.mongo_uri)[settings.database]
    long_ago = (datetime.now(timezone.utc) - timedelta(days=30)).isoformat(timespec="seconds").replace("+00:00", "Z")
    db.referrals.update_one({"_id": referral["referral_id"]}, {"$set": {"marks": [["requested", long_ago]]}})
    db.screenings.update_one({"_id": sid}, {"$set": {"marks": [["refer_for_identification", long_ago]]}})
    with rpc_as(platform, "operator", None) as rpc:
        first = rpc.screening.run_sweep(actor="op-1")["escalated"]
        again = rpc.screening.run_sweep(actor="op-1")["escalated"]
    running = [p for p in platform.stack.procs if p.name == "service-screening"]
    assert len(running) == 1
    for proc in running:  # a restarted service remembers what it escalated (it is in MongoDB, not in memory)
        proc.stop()
        platform.stack.procs.remove(proc)
    platform.service("screening")
    with rpc_as(platform, "operator", None) as rpc:
        after_restart = rpc.screening.run_sweep(actor="op-1")["escalated"]
    assert (first, again, after_restart) == (2, 0, 0)
    missed = [json.loads(r.value) for r in read_all(platform.env["KAFKA_BOOTSTRAP_SERVERS"],
                                                    platform.topic("screening.referrals"))]
    missed = [e["data"] for e in missed if e["type"] == "screening.deadline.missed"
              and e["data"]["subjectId"] in (sid, referral["referral_id"])]
    assert sorted((m["deadline"], m["subjectId"]) for m in missed) == sorted(
        [("identification_talk", sid), ("partner_acknowledgement", referral["referral_id"])])
