"""A partner's view of its topic: a librdkafka consumer (confluent-kafka), as partner systems use, reading every
record from the start, and checks of each payload against the AsyncAPI description and the redaction policy."""
from __future__ import annotations

import json
import time
from functools import lru_cache

from confluent_kafka import Consumer, TopicPartition
from jsonschema import Draft202012Validator, FormatChecker

from kit.contracts import SCHEMAS_DIR
from services.screening.domain.partners import load_policy
from services.screening.domain.redaction import allowed_paths


def read_partner_topic(bootstrap: str, topic: str, timeout: float = 60, quiet: float = 3.0) -> list[dict]:
    """Every record of ``topic`` as (key, envelope), in partition order, until the topic has been quiet."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"partner-test-{time.monotonic_ns()}",
                         "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        deadline = time.monotonic() + timeout
        metadata = None
        while time.monotonic() < deadline:
            metadata = consumer.list_topics(topic, timeout=5).topics.get(topic)
            if metadata is not None and metadata.error is None and metadata.partitions:
                break
            time.sleep(0.3)
        if metadata is None or not metadata.partitions:
            return []
        consumer.assign([TopicPartition(topic, p, 0) for p in sorted(metadata.partitions)])
        records, last = [], time.monotonic()
        while time.monotonic() - last < quiet:
            assert time.monotonic() < deadline, f"reading {topic} did not come to an end within {timeout}s"
            message = consumer.poll(0.3)
            if message is None:
                continue
            assert message.error() is None, message.error()
            records.append((message.partition(), message.offset(), message.key().decode(),
                            json.loads(message.value())))
            last = time.monotonic()
        return [{"key": key, "event": event} for _, _, key, event in sorted(records, key=lambda r: r[:2])]
    finally:
        consumer.close()


@lru_cache(maxsize=None)
def _validator(message: str) -> Draft202012Validator:
    """The payload schema the AsyncAPI file names for this message (resolved from its $ref)."""
    asyncapi = json.loads((SCHEMAS_DIR / "asyncapi.json").read_text())
    ref = asyncapi["components"]["messages"][message]["payload"]["$ref"]
    return Draft202012Validator(json.loads((SCHEMAS_DIR / ref).read_text()), format_checker=FormatChecker())


def check_against_asyncapi(topic_unprefixed: str, event: dict) -> None:
    asyncapi = json.loads((SCHEMAS_DIR / "asyncapi.json").read_text())
    names = [m["$ref"].rsplit("/", 1)[1] for m in asyncapi["channels"][topic_unprefixed]["messages"].values()]
    message = event["type"].replace(".", "_")
    assert message in names, f"{event['type']} is not described on {topic_unprefixed}"
    errors = [e.message for e in _validator(message).iter_errors(event["data"])]
    assert not errors, errors


def leaf_paths(data: dict, prefix: str = "") -> set[str]:
    paths = set()
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            paths |= leaf_paths(value, path + ".")
        else:
            paths.add(path)
    return paths


def check_redaction(agency: str, data: dict) -> None:
    allowed = allowed_paths(agency, data["purpose"], load_policy())
    extra = leaf_paths(data) - allowed
    assert not extra, f"{agency} received fields its policy does not allow: {sorted(extra)}"


def kcat_read(bootstrap: str, topic: str, timeout: float = 60) -> list[dict]:
    """Every record of ``topic`` as kcat prints it (``-C -o beginning -e``): the tool a partner's operator reaches
    for first. Debian's kcat 1.7.1 (librdkafka 2.0.2) reads through the local stack's partner listener."""
    import shutil
    import subprocess
    binary = shutil.which("kcat")
    assert binary, "kcat is not installed (apt-get install kcat; `make test` installs it)"
    done = subprocess.run([binary, "-b", bootstrap, "-C", "-t", topic, "-o", "beginning", "-e", "-q",
                           "-f", "%k\\t%s\\n"], capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, done.stderr[-2000:]
    records = []
    for line in done.stdout.splitlines():
        key, _, value = line.partition("\t")
        records.append({"key": key, "event": json.loads(value)})
    return records
