"""Settings from the environment with working local defaults; a missing or malformed one fails at start-up.

Each setting is declared once with its parser, so the error names the variable and says what was wrong with it.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import Callable, Mapping
from urllib.parse import urlparse


class SettingsError(RuntimeError):
    """A setting is missing or malformed. The message names the environment variable."""


def _url(*schemes: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        url = urlparse(raw)
        if url.scheme not in schemes or not url.hostname:
            raise ValueError(f"expected a {'/'.join(schemes)} URL with a host, got {raw!r}")
        return raw
    return parse


def _hosts(raw: str) -> str:
    for part in raw.split(","):
        host, _, port = part.strip().rpartition(":")
        if not host or not port.isdigit():
            raise ValueError(f"expected host:port[,host:port...], got {raw!r}")
    return raw


def _positive(kind: type) -> Callable[[str], float | int]:
    def parse(raw: str):
        value = kind(raw)
        if value <= 0:
            raise ValueError(f"must be greater than 0, got {raw!r}")
        return value
    return parse


def _non_negative_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError(f"must be 0 or more, got {raw!r}")
    return value


def _choice(*options: str) -> Callable[[str], str]:
    def parse(raw: str) -> str:
        if raw not in options:
            raise ValueError(f"must be one of {', '.join(options)}, got {raw!r}")
        return raw
    return parse


def _key(raw: str) -> bytes:
    # Keys come base64-encoded so they survive env files; 32 bytes gives HMAC-SHA256 its full strength.
    try:
        key = base64.b64decode(raw, validate=True)
    except ValueError:
        raise ValueError("must be base64") from None
    if len(key) < 32:
        raise ValueError(f"must decode to at least 32 bytes, got {len(key)}")
    return key


def _name(raw: str) -> str:
    if not raw.replace("_", "").replace("-", "").isalnum():
        raise ValueError(f"must be letters, digits, '-' or '_', got {raw!r}")
    return raw


@dataclass(frozen=True)
class Spec:
    env: str
    parse: Callable[[str], object]
    default: str | None  # None: required, no local default


# Defaults point at the embedded local stack that `make run` starts (deploy/local), so every process and command
# works locally with no configuration; production sets each variable.
LOCAL_KAFKA_PORT, LOCAL_MONGO_PORT = 19092, 27018

SPECS: dict[str, Spec] = {
    "amqp_uri": Spec("AMQP_URI", _url("amqp", "amqps"), "amqp://guest:guest@127.0.0.1:5672/"),
    "kafka_bootstrap": Spec("KAFKA_BOOTSTRAP_SERVERS", _hosts, f"127.0.0.1:{LOCAL_KAFKA_PORT}"),
    "mongo_uri": Spec("MONGO_URI", _url("mongodb", "mongodb+srv"), f"mongodb://127.0.0.1:{LOCAL_MONGO_PORT}/"),
    "db_prefix": Spec("MONGO_DB_PREFIX", _name, "actionplan"),
    "topic_prefix": Spec("KAFKA_TOPIC_PREFIX", lambda raw: _name(raw) if raw else raw, ""),
    "pseudonym_key": Spec("PSEUDONYM_KEY", _key, None),
    "notes_key": Spec("NOTES_ENCRYPTION_KEY", _key, None),
    "rpc_timeout_s": Spec("RPC_TIMEOUT_SECONDS", _positive(float), "10"),
    "rpc_pool_size": Spec("RPC_POOL_SIZE", _positive(int), "8"),
    "trace_exporter": Spec("TRACE_EXPORTER", _choice("none", "otlp", "console"), "none"),
    "consumer_max_attempts": Spec("CONSUMER_MAX_ATTEMPTS", _positive(int), "3"),
    "consumer_backoff_ms": Spec("CONSUMER_BACKOFF_MS", _non_negative_int, "200"),
    # an outage (MongoDB, Kafka) is retried without limit; the wait between tries grows up to this
    "consumer_retry_max_backoff_ms": Spec("CONSUMER_RETRY_MAX_BACKOFF_MS", _positive(int), "10000"),
    # how long a group member may go without polling before the group moves its partitions to others
    "consumer_max_poll_interval_ms": Spec("CONSUMER_MAX_POLL_INTERVAL_MS", _positive(int), "60000"),
    "relay_interval_ms": Spec("RELAY_INTERVAL_MS", _positive(int), "200"),
    "relay_batch": Spec("RELAY_BATCH_SIZE", _positive(int), "500"),
    # one relay per service publishes at a time; a stand-by takes over when the holder's lease runs out
    "relay_lease_s": Spec("RELAY_LEASE_SECONDS", _positive(float), "10"),
    # how long the producer keeps retrying one record before its send fails (the relay then retries the row)
    "kafka_delivery_timeout_ms": Spec("KAFKA_DELIVERY_TIMEOUT_MS", _positive(int), "120000"),
    # off only for a broker that loses acknowledged records on a crash when producing idempotently (the local
    # Tansu): retries then write duplicates, which every consumer's inbox recognises, instead of losing records
    "kafka_idempotence": Spec("KAFKA_IDEMPOTENCE", _choice("on", "off"), "on"),
    "kafka_partitions": Spec("KAFKA_PARTITIONS", _positive(int), "3"),
    "kafka_replication_factor": Spec("KAFKA_REPLICATION_FACTOR", _positive(int), "1"),
    "kafka_min_insync_replicas": Spec("KAFKA_MIN_INSYNC_REPLICAS", _positive(int), "1"),
    # retention of the delivery records: inbox rows must outlive the topics' retention, or a replay re-applies
    "outbox_retention_days": Spec("OUTBOX_RETENTION_DAYS", _positive(float), "7"),
    "inbox_retention_days": Spec("INBOX_RETENTION_DAYS", _positive(float), "400"),
    "request_retention_days": Spec("REQUEST_RETENTION_DAYS", _positive(float), "30"),
    "gateway_host": Spec("GATEWAY_HOST", str, "127.0.0.1"),
    "gateway_port": Spec("GATEWAY_PORT", _positive(int), "8000"),
    # -- identity settings (OIDC, principal) --
    # -- GraphQL edge settings --
    # -- access log settings --
    # -- keys and ingestion settings --
    "gateway_services": Spec("GATEWAY_SERVICES", lambda raw: tuple(_name(s.strip()) for s in raw.split(",")),
                             "grants,evaluation,ad_triage"),
}


@dataclass(frozen=True)
class Settings:
    service: str
    amqp_uri: str
    kafka_bootstrap: str
    mongo_uri: str
    db_prefix: str
    topic_prefix: str
    pseudonym_key: bytes | None
    notes_key: bytes | None
    rpc_timeout_s: float
    rpc_pool_size: int
    trace_exporter: str
    consumer_max_attempts: int
    consumer_backoff_ms: int
    consumer_retry_max_backoff_ms: int
    consumer_max_poll_interval_ms: int
    relay_interval_ms: int
    relay_batch: int
    relay_lease_s: float
    kafka_delivery_timeout_ms: int
    kafka_idempotence: str
    kafka_partitions: int
    kafka_replication_factor: int
    kafka_min_insync_replicas: int
    outbox_retention_days: float
    inbox_retention_days: float
    request_retention_days: float
    gateway_host: str
    gateway_port: int
    gateway_services: tuple[str, ...]
    # -- identity fields --
    # -- GraphQL edge fields --
    # -- access log fields --
    # -- keys and ingestion fields --

    @property
    def database(self) -> str:
        """Each service owns exactly one database; nothing else opens it."""
        return f"{self.db_prefix}_{self.service}"

    def topic(self, name: str) -> str:
        return f"{self.topic_prefix}.{name}" if self.topic_prefix else name

    def require(self, field: str):
        value = getattr(self, field)
        if value is None:
            raise SettingsError(f"{SPECS[field].env} is required by {self.service} and has no default")
        return value


def load(service: str, env: Mapping[str, str] | None = None, required: tuple[str, ...] = ()) -> Settings:
    """Read every setting; ``required`` names settings this process cannot run without (checked now, not later)."""
    env = os.environ if env is None else env
    values: dict[str, object] = {}
    problems: list[str] = []
    for field, spec in SPECS.items():
        raw = env.get(spec.env)
        if raw is None or raw == "":
            raw = spec.default
        if raw is None:
            values[field] = None
            if field in required:
                problems.append(f"{spec.env} is required and not set")
            continue
        try:
            values[field] = spec.parse(raw)
        except ValueError as exc:
            problems.append(f"{spec.env}: {exc}")
    if problems:
        raise SettingsError(f"{service}: invalid configuration: " + "; ".join(problems))
    return Settings(service=service, **values)
