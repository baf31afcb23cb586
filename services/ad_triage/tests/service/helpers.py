"""Steps shared by the ad triage service tests: generated files, imports over RPC, reading the ads topic."""
from __future__ import annotations

import base64
import io
import json
import os

from services.ad_triage.contracts import ADS_TOPIC
from services.ad_triage.tools.bulk_import import run_import
from services.ad_triage.tools.generate_ads import generate, write_csv, write_jsonl
from tests.support.rpc import rpc_as
from tests.support.tokens import bearer
from tests.support.waiting import eventually

# who the tests act as (the access policy's roles): an outreach worker, a caseworker, an operator, a connector
WORKER = bearer("outreach_worker", "cmm", subject="worker-7")
LEAD = bearer("caseworker", "cmm", subject="lead-2")
OPERATOR = bearer("operator", subject="operator-1")
CONNECTOR = bearer("ingest_connector", subject="crawler-1")
# the test crawler's signing key, registered with the service (conftest) as producer crawler-1
SIGNING_SEED = os.urandom(32)
CONNECTOR_ENV = {"CONNECTOR_SIGNING_KEY": base64.b64encode(SIGNING_SEED).decode()}


def producers_env() -> dict[str, str]:
    from kit.signing import public_key_of
    return {"AD_TRIAGE_PRODUCERS": f"crawler-1:{public_key_of(SIGNING_SEED)}"}


def connector_settings(platform):
    from kit.settings import load
    return load("ad_triage", {**platform.env, **CONNECTOR_ENV})


def generated_lines(count: int, seed: int, fmt: str = "jsonl", malformed: int = 0, id_prefix: str = "") -> list[str]:
    """Generated ads as file lines; ``id_prefix`` keeps their ad ids apart from another generated file's."""
    records = generate(count, seed, malformed)
    for record in records:
        if record is not None and "adId" in record:
            record["adId"] = id_prefix + record["adId"]
    buffer = io.StringIO()
    (write_jsonl if fmt == "jsonl" else write_csv)(records, buffer)
    text = buffer.getvalue()
    return text.splitlines(keepends=fmt == "csv")


def import_lines(platform, lines: list[str], fmt: str = "jsonl", chunk: int = 500) -> dict:
    out = io.StringIO()
    with rpc_as(platform, "ingest_connector", timeout=120) as rpc:
        return run_import(rpc, lines, fmt, chunk, "importer-1", out=out, quiet=True)


def published(platform, db, timeout: float = 60) -> list[dict]:
    """Every event on the ads topic, read once the relay has published every outbox row."""
    eventually(lambda: db.outbox.count_documents({"status": "pending"}) == 0, timeout, 0.2, "outbox drained")
    expect = db.outbox.count_documents({"topic": platform.topic(ADS_TOPIC)})
    records = platform.read_topic(ADS_TOPIC, expect, timeout=timeout)
    assert len(records) == expect, f"{len(records)} of {expect} events on {ADS_TOPIC}"
    return [json.loads(r.value) for r in records]


def raw_ad(ad_id: str = "9001", **overrides) -> dict:
    record = {
        "platform": "dkescort.example", "adId": ad_id, "url": f"https://dkescort.example/annonce/{ad_id}",
        "firstSeen": "2016-05-01T10:00:00+00:00", "lastSeen": "2016-05-03T10:00:00+00:00",
        "title": "Anna - Odense", "text": "Sweet Thai girl. Professional and discreet. Call me.",
        "language": "en", "location": "Odense", "contacts": [{"kind": "phone", "value": "+45 29 99 40 11"}],
    }
    record.update(overrides)
    return record


def observe(platform, db, record: dict, timeout: float = 60) -> dict:
    """Send one ad through the Kafka door (the connector library) and wait until the service stored it."""
    from services.ad_triage.tools.connector import Connector
    connector = Connector(connector_settings(platform), "crawler-1")
    try:
        assert connector.publish([json.dumps(record)])[0] == 1
    finally:
        connector.close()
    key = f"{record['platform']}/{record['adId']}"
    return eventually(lambda: db.ads.find_one({"_id": key, "sightings.via": "kafka"}), timeout, 0.3,
                      f"{key} stored from Kafka")
