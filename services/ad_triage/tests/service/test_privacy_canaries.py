"""Canary contacts planted through all three doors (CLI import, connector to Kafka, gateway) and one rejected
record: no raw contact value, nor its digits, appears in any database, topic, process log or span."""
import json
import subprocess
import sys

import phonenumbers
import pytest
from kafka import KafkaConsumer
from pymongo import MongoClient

from services.ad_triage.tests.service.helpers import CONNECTOR_ENV, WORKER, raw_ad
from tests.support.graphql import ok, request_id
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack

PHONES = {"cli": "+4529996147", "connector": "+40729991234", "gateway": "+4529997358", "quarantine": "+4529998462"}
HANDLE, EMAIL = "canarysecret88", "canary.secret@example.org"


def forms(e164: str) -> set[str]:
    number = phonenumbers.parse(e164)
    national = str(number.national_number)
    spaced = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
    return {e164, e164[1:], national, spaced, " ".join(national)}


CANARIES = set().union(*(forms(p) for p in PHONES.values())) | {HANDLE, EMAIL, "canary.secret"}


def planted(door: str, ad_id: str, **overrides) -> dict:
    phone = PHONES[door]
    national = str(phonenumbers.parse(phone).national_number)
    return raw_ad(ad_id, title=f"Anna {national}", text=(
        f"Sweet Thai girl. Ring {' '.join(national)} or {phone}. telegram: {HANDLE}. "
        f"Mail canary.secret (at) example (dot) org"),
        contacts=[{"kind": "phone", "value": " ".join(national)}, {"kind": "whatsapp", "value": phone},
                  {"kind": "telegram", "value": "@" + HANDLE}, {"kind": "email", "value": EMAIL}], **overrides)


def run(platform, *argv: str) -> str:
    done = subprocess.run([sys.executable, "-m", *argv], env={**platform.env, **CONNECTOR_ENV}, capture_output=True,
                          text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout + done.stderr


def leaks(text: str) -> set[str]:
    return {c for c in CANARIES if c in text}


def test_no_raw_contact_anywhere(platform, db, otlp, tmp_path):
    assert all(phonenumbers.is_valid_number(phonenumbers.parse(p)) for p in PHONES.values())
    cli_file = tmp_path / "cli.jsonl"
    cli_file.write_text(json.dumps(planted("cli", "c-1")) + "\n" + json.dumps(
        planted("quarantine", "c-2", language="dansk")) + "\n")
    cli_out = run(platform, "services.ad_triage.tools.bulk_import", str(cli_file), "--actor", "importer-1")
    connector_file = tmp_path / "crawl.jsonl"
    connector_file.write_text(json.dumps(planted("connector", "c-3")) + "\n")
    connector_out = run(platform, "services.ad_triage.tools.connector", str(connector_file), "--name", "crawler-1")
    submitted = ok(platform.graphql("mutation($ad: AdInput!, $rid: String!) { submitAd(ad: $ad, requestId: $rid) "
                                    "{ status adKey } }", {"ad": planted("gateway", "c-4"), "rid": request_id()},
                                    headers=WORKER), "submitAd")
    assert submitted["status"] == "accepted"
    eventually(lambda: db.ads.find_one({"_id": "dkescort.example/c-3"}), 60, 0.3, "the connector's ad stored")
    assert db.ads.count_documents({}) == 3 and db.quarantine.count_documents({}) == 1
    assert db.ads.find_one({"_id": "dkescort.example/c-3"})["sightings"][0]["via"] == "kafka"
    ok(platform.graphql('{ triageAd(adKey: "dkescort.example/c-4") { text score { fired { evidence { snippet } } } }'
                        ' triageQueue { items { clusterId cities evidence { evidence { snippet } } } } }',
                        headers=WORKER), "triageAd")
    eventually(lambda: db.outbox.count_documents({"status": "pending"}) == 0, 30, 0.2, "outbox drained")

    found = {"cli output": leaks(cli_out), "connector output": leaks(connector_out)}
    client = MongoClient(platform.env["MONGO_URI"])
    for name in client.list_database_names():
        if name.startswith(platform.name):
            for collection in client[name].list_collection_names():
                dump = json.dumps(list(client[name][collection].find()), default=str, ensure_ascii=False)
                found[f"mongo {name}.{collection}"] = leaks(dump)
    consumer = KafkaConsumer(bootstrap_servers=platform.env["KAFKA_BOOTSTRAP_SERVERS"], group_id=None,
                             auto_offset_reset="earliest", consumer_timeout_ms=3000)
    topics = sorted(t for t in consumer.topics() if t.startswith(platform.name + "."))
    assert platform.topic("ad_triage.observations") in topics and platform.topic("ad_triage.ads") in topics
    consumer.subscribe(topics)
    records = list(consumer)
    consumer.close()
    assert any(r.topic.endswith("ad_triage.observations") for r in records)
    kafka_dump = "".join(f"{r.key!r}{r.value.decode('utf-8', 'replace')}{r.headers!r}" for r in records)
    found["kafka"] = leaks(kafka_dump) | leaks(json.dumps([json.loads(r.value) for r in records]))
    for proc in platform.stack.procs:
        found[f"log {proc.name}"] = leaks(proc.log_path.read_text(errors="replace"))
    found["spans"] = leaks(json.dumps(otlp.all(), default=str, ensure_ascii=False))
    client.close()
    assert {where: sorted(hits) for where, hits in found.items() if hits} == {}
