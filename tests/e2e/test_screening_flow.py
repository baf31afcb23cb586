"""Screening end to end (issue 12, "Done when"), through the real gateway: a screener records a screening at a
construction site with the forced-labour instrument and the outcome says "refer" with its explanation; consent is
given; referrals to CMM and to the Working Environment Authority appear on their partner topics, read with a
librdkafka client (confluent-kafka, and Debian's kcat) and redacted per policy; the authority acknowledges through GraphQL; consent is withdrawn and both
topics get a revocation, and no other partner topic gets anything."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from tests.support.graphql import error_code, ok, request_id
from tests.support.partners import check_against_asyncapi, check_redaction, kcat_read, read_partner_topic
from tests.support.platform import Platform

pytestmark = pytest.mark.stack

SCREENER = ("screener", "DK-CVR-20453044")
WEA = ("partner_agency", "wea")
POLICE = ("partner_agency", "police")
CMM = ("caseworker", "cmm")
TODAY = date.today().isoformat()
ANSWERS = [{"question": q, "answer": "YES"} for q in (
    "dr_nature_of_job_q1", "dr_wages_q1", "ec_excessive_hours_q1", "ec_low_or_no_salary_q1", "cd_documents_q1",
    "cd_debt_q1")] + [{"question": "cr_violence_q1", "answer": "NO"}]
RECORD = """mutation($answers: [ScreeningAnswerInput!]!, $day: Date!, $rid: String!) {
  recordScreening(instrument: "ilo-ec-2009", answers: $answers, screenedOn: $day, municipality: "101", sector: "F",
                  languageGroup: "ro", ageBand: AGE_25_34, gender: MALE, identificationTalk: OFFERED, requestId: $rid) {
    screeningId outcome rule explanation instrument instrumentVersion methodsOfControl
    context { kind sector isic region } fired { indicator dimension strength } dimensions { dimension positive } } }"""
GRANT = """mutation($s: ID!, $rid: String!) {
  grantConsent(screeningId: $s, legalBasis: "explicit_consent_oral_interpreter", requestId: $rid,
               scope: [{recipient: "cmm", purpose: "initial_identification"},
                       {recipient: "wea", purpose: "labour_inspection"}]) { version inForce { recipient purpose } } }"""
REFER = """mutation($s: ID!, $to: String!, $purpose: String!, $rid: String!) {
  requestReferral(screeningId: $s, recipient: $to, purpose: $purpose, requestId: $rid) {
    referralId state basis recipient acknowledgeBy } }"""
INBOX = "{ partnerReferrals { edges { node { referralId state purpose } } } }"
ACK = """mutation($r: ID!, $rid: String!) { respondToReferral(referralId: $r, action: ACKNOWLEDGE, requestId: $rid) {
  referralId state timeline { state by } } }"""
WITHDRAW = "mutation($s: ID!, $rid: String!) { withdrawConsent(screeningId: $s, requestId: $rid) { version revoked inForce { recipient } } }"


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """The platform as `make run` starts it, with screening and its relay."""
    platform = Platform(infra, f"s{uuid.uuid4().hex[:8]}", otlp.endpoint)
    try:
        platform.service("screening")
        platform.relay("screening")
        platform.gateway()
        yield platform
    finally:
        platform.stop()


def partner_topic(platform, agency: str) -> list[dict]:
    """The topic as two partners' clients read it: confluent-kafka (librdkafka 2.16) on the broker, and Debian's
    kcat (librdkafka 2.0.2) on the partner listener; both must see the same records, each valid per AsyncAPI."""
    topic = f"partner.{agency}.referrals"
    records = read_partner_topic(platform.env["KAFKA_BOOTSTRAP_SERVERS"], platform.topic(topic))
    by_kcat = kcat_read(platform.env["KAFKA_PARTNER_BOOTSTRAP_SERVERS"], platform.topic(topic))
    assert sorted(r["event"]["id"] for r in by_kcat) == sorted(r["event"]["id"] for r in records)
    for record in records + by_kcat:
        check_against_asyncapi(topic, record["event"])
        assert record["key"] == record["event"]["data"]["referralId"]
    return [r["event"] for r in records]


def test_a_construction_site_screening_reaches_cmm_and_the_labour_inspectorate_and_is_revoked_on_withdrawal(platform):
    screening = ok(platform.graphql(RECORD, {"answers": ANSWERS, "day": TODAY, "rid": request_id()}, as_=SCREENER),
                   "recordScreening")
    assert (screening["outcome"], screening["rule"]) == ("REFER_FOR_IDENTIFICATION", "elements_all_positive")
    assert screening["context"] == {"kind": "workplace", "sector": "F", "isic": "F", "region": "hovedstaden"}
    assert {d["dimension"] for d in screening["dimensions"] if d["positive"]} == {
        "deceptive_recruitment", "exploitative_conditions", "coercion_at_destination"}
    sid = screening["screeningId"]

    refused = platform.graphql(REFER, {"s": sid, "to": "wea", "purpose": "labour_inspection", "rid": request_id()},
                               as_=SCREENER)
    assert error_code(refused) == "consent_required"
    assert ok(platform.graphql(GRANT, {"s": sid, "rid": request_id()}, as_=SCREENER), "grantConsent")["version"] == 1
    to_cmm = ok(platform.graphql(REFER, {"s": sid, "to": "cmm", "purpose": "initial_identification",
                                         "rid": request_id()}, as_=SCREENER), "requestReferral")
    to_wea = ok(platform.graphql(REFER, {"s": sid, "to": "wea", "purpose": "labour_inspection",
                                         "rid": request_id()}, as_=SCREENER), "requestReferral")
    assert (to_wea["state"], to_wea["basis"]) == ("REQUESTED", "consent") and to_wea["acknowledgeBy"]

    inbox = ok(platform.graphql(INBOX, as_=WEA), "partnerReferrals")["edges"]
    assert [e["node"]["referralId"] for e in inbox] == [to_wea["referralId"]]
    assert ok(platform.graphql(INBOX, as_=POLICE), "partnerReferrals")["edges"] == []
    foreign = platform.graphql(ACK, {"r": to_cmm["referralId"], "rid": request_id()}, as_=WEA)
    assert error_code(foreign) == "unknown_referral"
    acked = ok(platform.graphql(ACK, {"r": to_wea["referralId"], "rid": request_id()}, as_=WEA), "respondToReferral")
    assert [(s["state"], s["by"]) for s in acked["timeline"]] == [("REQUESTED", "DK-CVR-20453044"), ("RECEIVED", "wea")]
    forbidden = platform.graphql(ACK, {"r": to_wea["referralId"], "rid": request_id()}, as_=SCREENER)
    assert error_code(forbidden) == "forbidden"

    withdrawn = ok(platform.graphql(WITHDRAW, {"s": sid, "rid": request_id()}, as_=SCREENER), "withdrawConsent")
    assert (withdrawn["revoked"], withdrawn["inForce"]) == (2, [])

    for agency, referral in (("cmm", to_cmm), ("wea", to_wea)):
        events = partner_topic(platform, agency)
        assert [e["type"] for e in events] == [f"partner.{agency}.referral.shared",
                                               f"partner.{agency}.referral.revoked"]
        assert {e["data"]["referralId"] for e in events} == {referral["referralId"]}
        check_redaction(agency, events[0]["data"])
    wea_payload = partner_topic(platform, "wea")[0]["data"]
    assert "person" not in wea_payload and wea_payload["workplace"]["sector"] == "F"
    for agency in ("police", "skat", "siri", "immigration"):
        assert partner_topic(platform, agency) == []


BAD = [
    ('recordScreening(instrument: "no-such", answers: [{question: "x", answer: YES}], screenedOn: "%s", '
     'municipality: "101", sector: "F")', "unknown_instrument"),
    ('recordScreening(instrument: "ilo-ec-2009", answers: [{question: "nope", answer: YES}], screenedOn: "%s", '
     'municipality: "101", sector: "F")', "unknown_question"),
    ('recordScreening(instrument: "ilo-ec-2009", answers: [{question: "dr_wages_q1", answer: MAYBE}], '
     'screenedOn: "%s", municipality: "101", sector: "F")', "validation_failed"),
    ('recordScreening(instrument: "ilo-ec-2009", answers: [{question: "dr_wages_q1", answer: YES}], '
     'screenedOn: "%s", municipality: "9999", sector: "F")', "invalid_context"),
    ('recordScreening(instrument: "ilo-ec-2009", answers: [{question: "dr_wages_q1", answer: YES}], '
     'screenedOn: "%s", municipality: "101", sector: "Q99.99")', "unknown_sector"),
    ('recordScreening(instrument: "ilo-ec-2009", answers: [{question: "dr_wages_q1", answer: YES}], '
     'screenedOn: "not a day", municipality: "101", sector: "F")', None),
    ('requestReferral(screeningId: "scr-0000000000000000", recipient: "cmm", purpose: "initial_identification")',
     "unknown_screening"),
    ('requestReferral(screeningId: "not-an-id", recipient: "cmm", purpose: "initial_identification")', "invalid_id"),
    ('grantConsent(screeningId: "scr-0000000000000000", legalBasis: "x", scope: [])', "invalid_input"),
]


@pytest.mark.parametrize("call, code", BAD)
def test_bad_input_through_graphql_gets_its_code_and_writes_nothing(platform, call, code):
    from pymongo import MongoClient
    settings = platform.settings("screening")
    client = MongoClient(settings.mongo_uri)
    try:
        db = client[settings.database]
        before = {name: db[name].count_documents({}) for name in ("screenings", "referrals", "consent_log", "outbox")}
        text = (call % TODAY if "%s" in call else call)[:-1] + f', requestId: "{request_id()}")'
        field = text.split("(")[0]
        answer = platform.graphql(f"mutation {{ {text} {{ __typename }} }}", as_=SCREENER)
        assert answer.get("errors") and (answer.get("data") or {}).get(field) is None, answer
        got = answer["errors"][0]["extensions"]["code"]
        if code:
            assert got == code, answer["errors"]
        else:  # a malformed Date is refused by the scalar, before any resolver
            assert got in ("validation_failed", "invalid_input"), answer["errors"]
        after = {name: db[name].count_documents({}) for name in before}
        assert after == before
    finally:
        client.close()
