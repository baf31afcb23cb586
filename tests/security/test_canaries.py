"""Canaries through the error paths: a known phone number and a name, sent through bad GraphQL variables, RPCs that
fail in the service and events that break their contract or come from no registered producer, appear in no
response, process log, span or Kafka message (the poison records we wrote ourselves, and their verbatim dead-letter
copies, excepted: their dead-letter headers are checked). See also the ad triage service's privacy canaries, which
plant contacts through every door that succeeds."""
from __future__ import annotations

import json
import time

import phonenumbers
import pytest
from kafka import KafkaConsumer, KafkaProducer

from services.ad_triage.tests.service.helpers import producers_env, raw_ad
from tests.support.graphql import request_id
from tests.support.platform import running

pytestmark = pytest.mark.stack

PHONE = "+4529996183"
NAME = "Marianne Kjærsgaard-Olesen"
WORKER = ("outreach_worker", "cmm")
CONNECTOR = ("ingest_connector", "cmm")


def forms() -> set[str]:
    number = phonenumbers.parse(PHONE)
    national = str(number.national_number)
    spaced = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return {PHONE, PHONE[1:], national, spaced, " ".join(national), NAME, "Kjærsgaard", json.dumps(NAME)[1:-1]}


CANARIES = forms()


def leaks(text: str) -> set[str]:
    return {c for c in CANARIES if c in text}


@pytest.fixture(scope="module")
def platform(infra, otlp):
    with running(infra, otlp, "cn", {"ad_triage": {"AD_TRIAGE_RULESET_VERSION": "1.0.0", **producers_env()}},
                 relays=("ad_triage",)) as platform:
        yield platform


def _graphql(platform, query: str, variables: dict | None = None, as_=WORKER) -> dict:
    try:
        return platform.graphql(query, variables, as_=as_)
    except TypeError:  # a Platform without bearer tokens (before the identity work): the header still names a user
        return platform.graphql(query, variables, headers={"X-Actor": "worker-7"})


SUBMIT = "mutation($ad: AdInput!, $rid: String!) { submitAd(ad: $ad, requestId: $rid) { status adKey reasons } }"


def bad_variables(platform) -> list[dict]:
    """Variables GraphQL itself refuses (wrong types, unknown fields): their values must not be echoed."""
    ad = raw_ad("canary-1", title=f"{NAME} {PHONE}", text=f"Ring {PHONE}, spørg efter {NAME}")
    return [
        _graphql(platform, SUBMIT, {"ad": {**ad, "contacts": [{"kind": "phone", "value": int(PHONE[1:])}]},
                                    "rid": request_id()}),
        _graphql(platform, SUBMIT, {"ad": {**ad, "name": NAME, "phone": PHONE}, "rid": request_id()}),
        _graphql(platform, SUBMIT, {"ad": ad, "rid": int(PHONE[1:])}),
        _graphql(platform, SUBMIT, {"ad": {**ad, "firstSeen": NAME, "lastSeen": PHONE}, "rid": request_id()}),
        _graphql(platform, "query($k: ID!) { triageAd(adKey: $k) { adKey } }", {"k": {"name": NAME}}),
        _graphql(platform, f'{{ triageQueue(first: "{PHONE}") {{ totalCount }} }}'),
        _graphql(platform, f'{{ triageQueue(after: "{NAME} {PHONE}") {{ totalCount }} }}'),
        _graphql(platform, f'{{ triageAd(adKey: "{PHONE}", name: "{NAME}") {{ adKey }} }}'),
    ]


def failing_rpcs(platform) -> list[dict]:
    """Calls the service refuses or cannot answer: its errors must not quote what it was sent."""
    return [
        _graphql(platform, "query($k: ID!) { triageAd(adKey: $k) { adKey } }", {"k": f"{NAME}/{PHONE}"}),
        _graphql(platform, "query($c: ID!) { adCluster(clusterId: $c) { clusterId } }", {"c": PHONE}),
        _graphql(platform, "mutation($k: ID!, $r: String!, $rid: String!) { moveTriageItem(clusterId: $k, to: CLOSED, "
                           "reason: $r, requestId: $rid) { state } }",
                 {"k": f"dkescort.example/{PHONE}", "r": f"{NAME} called from {PHONE}", "rid": request_id()}),
        _graphql(platform, "mutation($q: ID!, $rec: String, $rid: String!) { resubmitQuarantinedAd(quarantineId: $q,"
                           " record: $rec, requestId: $rid) { status } }",
                 {"q": PHONE, "rec": json.dumps({"name": NAME, "phone": PHONE}), "rid": request_id()}),
        _graphql(platform, "mutation($v: String!, $rid: String!) { publishAdRuleset(version: $v, requestId: $rid) "
                           "{ version } }", {"v": f"{NAME} {PHONE}", "rid": request_id()}),
        _graphql(platform, "mutation($l: [String!]!, $rid: String!) { importAds(lines: $l, format: CSV, "
                           "requestId: $rid) { quarantined results { reasons } } }",
                 {"l": [f"name,phone\n{NAME},{PHONE}\n"], "rid": request_id()}, as_=CONNECTOR),
        _graphql(platform, SUBMIT, {"ad": raw_ad("canary-2", language=NAME[:2], url=f"ftp://{PHONE}",
                                                 contacts=[{"kind": NAME[:8], "value": PHONE}]),
                                    "rid": request_id()}),
    ]


def poison_events(platform) -> list[str]:
    """Observations breaking their contract, unsigned, or signed by nobody we know; returns their ids."""
    producer = KafkaProducer(bootstrap_servers=platform.env["KAFKA_BOOTSTRAP_SERVERS"])
    topic = platform.topic("ad_triage.observations")
    base = {"specversion": "1.0", "source": "/actionplan/ad_triage_connector", "type": "ad_triage.ad.observed",
            "subject": "dkescort.example/canary-3", "time": "2016-05-03T10:00:00Z",
            "datacontenttype": "application/json"}
    data = {"platform": "dkescort.example", "adId": "canary-3", "url": "https://dkescort.example/a/canary-3",
            "firstSeen": "2016-05-01T10:00:00+00:00", "lastSeen": "2016-05-03T10:00:00+00:00",
            "title": NAME, "text": f"Ring {PHONE}", "language": "da", "location": NAME, "contacts": [],
            "price": None, "imageHashes": [], "observedAt": "2016-05-03T10:00:00+00:00", "connector": "crawler-1"}
    events = [
        {**base, "id": "canary-broken", "dataschema": "urn:actionplan:schemas:events:ad_triage.ad.observed:v2",
         "data": {**data, "name": NAME, "phone": PHONE, "title": {"who": NAME}}},
        {**base, "id": "canary-unsigned", "dataschema": "urn:actionplan:schemas:events:ad_triage.ad.observed:v1",
         "data": data},
        {**base, "id": "canary-forged", "dataschema": "urn:actionplan:schemas:events:ad_triage.ad.observed:v2",
         "data": {**data, "signature": {"producer": "crawler-1", "alg": "Ed25519", "value": "A" * 86 + "=="}}},
        {**base, "id": "canary-stranger", "dataschema": "urn:actionplan:schemas:events:ad_triage.ad.observed:v2",
         "data": {**data, "connector": NAME[:8], "signature": {"producer": "x", "alg": "Ed25519",
                                                               "value": "A" * 86 + "=="}}},
    ]
    for event in events:
        producer.send(topic, key=event["subject"].encode(), value=json.dumps(event).encode())
    producer.send(topic, key=b"x", value=f"not json {NAME} {PHONE}".encode())
    producer.flush()
    producer.close()
    return [e["id"] for e in events]


def read_all(platform) -> list:
    consumer = KafkaConsumer(bootstrap_servers=platform.env["KAFKA_BOOTSTRAP_SERVERS"], group_id=None,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000)
    topics = sorted(t for t in consumer.topics() if t.startswith(platform.name + "."))
    consumer.subscribe(topics)
    records = list(consumer)
    consumer.close()
    return records


def test_canaries_in_failing_requests_and_poison_events_leak_nowhere(platform, otlp):
    answers = {"bad variables": bad_variables(platform), "failing rpcs": failing_rpcs(platform)}
    for where, batch in answers.items():
        assert all(a.get("errors") or "quarantined" in json.dumps(a) for a in batch), (where, batch)
    poison = poison_events(platform)
    deadline = time.monotonic() + 90
    dead: list = []
    while time.monotonic() < deadline:
        dead = [r for r in read_all(platform) if r.topic.endswith("deadletter.ad_triage")]
        if len(dead) >= len(poison) + 1:
            break
        time.sleep(1)
    assert len(dead) >= len(poison) + 1, f"{len(dead)} dead-lettered of {len(poison) + 1}"
    reasons = {dict(r.headers).get("dlq.error", b"").decode() for r in dead}
    assert any("unsigned" in r for r in reasons) and any("does not match" in r for r in reasons)
    assert any("not registered" in r for r in reasons)
    time.sleep(1.5)  # spans are exported in batches

    found = {f"response {where}": leaks(json.dumps(batch, ensure_ascii=False)) for where, batch in answers.items()}
    records = read_all(platform)
    ours = [r for r in records
            if r.topic.endswith(".ad_triage.observations") or r.topic.endswith("deadletter.ad_triage")]
    others = [r for r in records if r not in ours]
    found["kafka messages"] = leaks("".join(f"{r.key!r}{r.value.decode('utf-8', 'replace')}{r.headers!r}"
                                            for r in others))
    found["dead-letter headers"] = leaks(json.dumps([[(k, v.decode("utf-8", "replace")) for k, v in r.headers]
                                                     for r in ours if r.topic.endswith("deadletter.ad_triage")],
                                                    ensure_ascii=False))
    for proc in platform.stack.procs:
        found[f"log {proc.name}"] = leaks(proc.log_path.read_text(errors="replace"))
    found["spans"] = leaks(json.dumps(otlp.all(), default=str, ensure_ascii=False))
    assert {where: sorted(hits) for where, hits in found.items() if hits} == {}
