"""Connector library and CLI for crawlers: raw ads in, ``ad_triage.ad.observed`` events out.

Contacts must not travel on Kafka, so the connector does at the edge what ingestion does: parse, normalise,
pseudonymise (PSEUDONYM_KEY, purpose ad-linkage) and mask the text. Rejected records never reach Kafka; with
``--quarantine`` they go to the service's quarantine over RPC (where they are stored encrypted).

Every event is signed with the connector's Ed25519 key (CONNECTOR_SIGNING_KEY, base64 of a 32-byte seed) under its
``--name``; the service accepts only names registered with their public key in AD_TRIAGE_PRODUCERS. To register
one: ``python -m services.ad_triage.tools.connector --public-key --name crawler-1`` prints the entry to add.

    python -m services.ad_triage.tools.connector FILE [--format jsonl|csv] [--name crawler-1] [--quarantine]
"""
from __future__ import annotations

import argparse
import sys
from datetime import datetime, timedelta, timezone

from kit import kafka_io
from kit.envelope import encode, new_event
from kit.pseudonym import Pseudonymiser
from kit.settings import Settings, SettingsError, load
from kit.signing import Signer, public_key_of
from services.ad_triage.contracts import OBSERVATIONS_TOPIC
from services.ad_triage.domain.arrivals import Rejection, split_lines
from services.ad_triage.domain.events import OBSERVED, observed_data
from services.ad_triage.domain.stored import key_string
from services.ad_triage.storage import PURPOSE

SOURCE = "ad_triage_connector"
_UNSIGNED = {"producer": "-", "alg": "Ed25519", "value": "A" * 86 + "=="}  # replaced by the signature itself


class Connector:
    def __init__(self, settings: Settings, name: str = "connector", producer=None) -> None:
        self.pseudonymise = Pseudonymiser(settings.require("pseudonym_key")).for_purpose(PURPOSE)
        self.signer = Signer(name, settings.require("connector_signing_key"))
        self.skew = timedelta(seconds=settings.ingest_clock_skew_s)
        self.topic = settings.topic(OBSERVATIONS_TOPIC)
        self.name = name
        self.producer = producer or kafka_io.producer(settings)

    def publish(self, lines: list[str], fmt: str = "jsonl") -> tuple[int, list[Rejection]]:
        """Publish every valid record of ``lines``; returns how many were sent and the rejections."""
        now = datetime.now(timezone.utc)
        arrivals, rejections = split_lines(lines, fmt, self.pseudonymise, "connector", "kafka", now, self.skew)
        for arrival in arrivals:
            subject = key_string(arrival.ad.key)
            data = {**observed_data(arrival.ad, now, self.name), "signature": _UNSIGNED}
            envelope = new_event(OBSERVED, SOURCE, subject, data)
            envelope["data"]["signature"] = self.signer.signature(envelope)
            self.producer.send(self.topic, key=subject.encode("utf-8"), value=encode(envelope))
        self.producer.flush()
        return len(arrivals), rejections

    def close(self) -> None:
        self.producer.close()


def quarantine(settings: Settings, rejections: list[Rejection], actor: str) -> list[str]:
    """Hand rejected records to the service's quarantine (one call each, so line numbers stay the file's)."""
    from nameko.standalone.rpc import ClusterRpcProxy

    from kit.nameko_kit import service_account

    ids = []
    # acts as the ingest_connector service account (PRINCIPAL_KEY from the environment), named after the connector
    with ClusterRpcProxy({"AMQP_URI": settings.amqp_uri, "serializer": "json"}, timeout=settings.rpc_timeout_s,
                         context_data=service_account(settings, "ingest_connector", actor)) as rpc:
        for r in rejections:
            lines = r.raw.splitlines(keepends=r.format == "csv")
            first = (r.line or 1) if r.format == "jsonl" else max((r.line or 2) - len(lines) + 2, 2)
            report = rpc.ad_triage.import_batch(lines=lines, format=r.format, actor=actor, first_line=first,
                                                via="connector")
            ids += [x.get("quarantine_id") or x.get("ad_key") for x in report["results"]]
    return ids


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("file", nargs="?", default="")
    parser.add_argument("--format", choices=("jsonl", "csv"), default=None)
    parser.add_argument("--name", default="connector", help="connector id carried in each event")
    parser.add_argument("--quarantine", action="store_true", help="send rejected records to the quarantine")
    parser.add_argument("--public-key", action="store_true",
                        help="print this connector's AD_TRIAGE_PRODUCERS entry (name:public key) and exit")
    args = parser.parse_args(argv)
    if not args.file and not args.public_key:
        parser.error("a file to publish is required")
    fmt = args.format or ("csv" if args.file.endswith(".csv") else "jsonl")
    try:
        required = ("connector_signing_key",) if args.public_key else ("pseudonym_key", "connector_signing_key")
        if args.quarantine and not args.public_key:
            required += ("principal_key",)  # the quarantine is RPC, as the ingest_connector service account
        settings = load("ad_triage", required=required, keys=required)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 78
    if args.public_key:
        print(f"{args.name}:{public_key_of(settings.connector_signing_key)}")
        return 0
    with open(args.file, encoding="utf-8", newline="") as fh:
        lines = fh.read().splitlines(keepends=fmt == "csv")
    connector = Connector(settings, args.name)
    try:
        sent, rejections = connector.publish(lines, fmt)
    finally:
        connector.close()
    for r in rejections:
        print(f"line {r.line}: rejected: {'; '.join(r.reasons)}")
    if rejections and args.quarantine:
        quarantine(settings, rejections, args.name)
        print(f"{len(rejections)} rejected record(s) sent to the quarantine")
    print(f"published {sent} observation(s) to {connector.topic}; rejected {len(rejections)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
