"""Settings from the environment with working local defaults; a missing or malformed one fails at start-up.

Each setting is declared once with its parser, so the error names the variable and says what was wrong with it.
"""
from __future__ import annotations

import base64
import hashlib
import os
import re
from dataclasses import dataclass, field
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


class SecretKey(bytes):
    """Key material from configuration: bytes to the code that uses it, never shown by repr, str or an error."""

    kid: str = ""

    def __repr__(self) -> str:
        return f"<key hidden{', id ' + self.kid if self.kid else ''}>"

    __str__ = __repr__


class KeyRing(SecretKey):
    """An active key (the bytes themselves, with its ``kid``) and retired ones that still decrypt (``retired``)."""

    retired: tuple[SecretKey, ...] = ()

    def all(self) -> tuple[SecretKey, ...]:
        return (self, *self.retired)


_KID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
MIN_KEY_BYTES = 32


def key_id(key: bytes) -> str:
    """A key id derived from the key (a one-way fingerprint, not key material), for keys configured without one."""
    return "k" + hashlib.sha256(b"actionplan-key-id:" + bytes(key)).hexdigest()[:8]


def weak_key_reason(key: bytes) -> str | None:
    """Why ``key`` cannot be a random key (all one byte, a repeated short pattern, too few distinct bytes), or None.

    32 random bytes have about 30 distinct values and no period; anything below these bounds was typed or made up.
    """
    if len(key) < MIN_KEY_BYTES:
        return f"must decode to at least {MIN_KEY_BYTES} bytes, got {len(key)}"
    if len(set(key)) == 1:
        return "has low entropy (every byte is the same); generate one with `python -m kit.fieldcrypt --new-key`"
    for period in range(2, len(key) // 2 + 1):
        if all(key[i] == key[i % period] for i in range(len(key))):
            return (f"has low entropy (a pattern of {period} bytes repeated); generate one with "
                    "`python -m kit.fieldcrypt --new-key`")
    if len(set(key)) < min(16, len(key) // 2):
        return (f"has low entropy ({len(set(key))} distinct byte values); generate one with "
                "`python -m kit.fieldcrypt --new-key`")
    if len(key) >= 16 and all(key[i + 1] - key[i] == key[1] - key[0] for i in range(len(key) - 1)):
        return "has low entropy (a counting sequence); generate one with `python -m kit.fieldcrypt --new-key`"
    return None


def _secret(raw: str, kid: str = "") -> SecretKey:
    # Keys come base64-encoded so they survive env files; 32 bytes gives HMAC-SHA256 its full strength. Messages
    # never quote the value: a key that fails here is still a key.
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except ValueError:
        raise ValueError("must be base64") from None
    reason = weak_key_reason(key)
    if reason:
        raise ValueError(reason)
    secret = SecretKey(key)
    secret.kid = kid or key_id(key)
    return secret


def _key(raw: str) -> bytes:
    return _secret(raw)


def _keyring(raw: str) -> KeyRing:
    """``[kid:]base64[,[kid:]base64...]``: the first key is active (encrypts); the others only decrypt, so a key
    can be rotated by putting a new one first and dropping the old one once nothing is encrypted under it."""
    keys: list[SecretKey] = []
    for n, part in enumerate(p.strip() for p in raw.split(",")):
        kid, sep, material = part.partition(":")
        if not sep:
            kid, material = "", part
        elif not _KID.match(kid):
            raise ValueError(f"key {n + 1}: a key id must be 1-16 letters, digits, '-' or '_'")
        try:
            keys.append(_secret(material, kid))
        except ValueError as exc:
            raise ValueError(f"key {n + 1}: {exc}") from None
    kids = [k.kid for k in keys]
    if len(set(kids)) != len(kids):
        raise ValueError("two keys have the same key id")
    if len({bytes(k) for k in keys}) != len(keys):
        raise ValueError("the same key is listed twice")
    ring = KeyRing(keys[0])
    ring.kid, ring.retired = keys[0].kid, tuple(keys[1:])
    return ring


def _producers(raw: str) -> dict[str, bytes]:
    """``name:base64-ed25519-public-key[,...]``: the producers whose signed observations are accepted."""
    registry: dict[str, bytes] = {}
    for part in (p.strip() for p in raw.split(",") if p.strip()):
        name, _, material = part.partition(":")
        if not re.fullmatch(r"[A-Za-z0-9._:-]{1,64}", name) or not material:
            raise ValueError("expected name:base64-public-key[,name:base64-public-key...]")
        try:
            public = base64.b64decode(material, validate=True)
        except ValueError:
            raise ValueError(f"producer {name!r}: the public key must be base64") from None
        if len(public) != 32:
            raise ValueError(f"producer {name!r}: an Ed25519 public key has 32 bytes, got {len(public)}")
        registry[name] = public
    return registry


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
    # one or more keys, the first active: `[kid:]base64[,[kid:]base64...]` (see kit/fieldcrypt.py, rotation)
    "notes_key": Spec("NOTES_ENCRYPTION_KEY", _keyring, None),
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
    # HMAC key sealing the caller's principal into RPC headers (kit.principal); the gateway and every service
    "principal_key": Spec("PRINCIPAL_KEY", _key, None),
    # (the identity parsers live in kit.principal; imported here so this block stays self-contained)
    **(lambda p: {
        # the OIDC provider whose tokens the gateway accepts: its issuer identifier (exactly the tokens' iss) and
        # the audience the tokens must name; the JWKS comes from OIDC_JWKS_URL or, if unset, from the issuer's
        # discovery document (<issuer>/.well-known/openid-configuration). `make run` and the tests set them to the
        # embedded local issuer (deploy/local/issuer.py).
        "oidc_issuer": Spec("OIDC_ISSUER", p.parse_issuer, None),
        "oidc_audience": Spec("OIDC_AUDIENCE", _name, "actionplan"),
        "oidc_jwks_url": Spec("OIDC_JWKS_URL", p.parse_jwks_url, None),
        "oidc_algorithms": Spec("OIDC_ALGORITHMS", p.parse_algorithms, "RS256,ES256"),
        "oidc_leeway_s": Spec("OIDC_LEEWAY_SECONDS", p.parse_leeway, "30"),
        # where the token carries the platform role (a list; exactly one entry may be a role of the policy file)
        "oidc_role_claim": Spec("OIDC_ROLE_CLAIM", p.parse_claim_path, "realm_access.roles"),
        "oidc_jwks_cache_s": Spec("OIDC_JWKS_CACHE_SECONDS", _positive(float), "300"),
        # an unknown key id refreshes the JWKS at most this often (a flood of forged kids cannot hammer the issuer)
        "oidc_jwks_refresh_s": Spec("OIDC_JWKS_MIN_REFRESH_SECONDS", _positive(float), "10"),
    })(__import__("kit.principal", fromlist=["parse_issuer"])),
    # -- GraphQL edge settings --
    **(lambda on_off, origins: {
        # introspection and the GraphiQL page: on for `make run`, off in the production configuration
        "graphql_introspection": Spec("GRAPHQL_INTROSPECTION", on_off, "on"),
        "graphiql": Spec("GRAPHIQL", on_off, "on"),
        # what one request may ask for; past a limit the request is refused before it runs, with its own code
        "graphql_max_body_bytes": Spec("GRAPHQL_MAX_BODY_BYTES", _positive(int), "131072"),
        "graphql_max_tokens": Spec("GRAPHQL_MAX_TOKENS", _positive(int), "4000"),
        "graphql_max_depth": Spec("GRAPHQL_MAX_DEPTH", _positive(int), "10"),
        "graphql_max_cost": Spec("GRAPHQL_MAX_COST", _positive(int), "1000"),
        "graphql_max_aliases": Spec("GRAPHQL_MAX_ALIASES", _non_negative_int, "20"),
        "graphql_max_list": Spec("GRAPHQL_MAX_LIST_SIZE", _positive(int), "500"),
        # operations in one JSON-array request; 0: no batching
        "graphql_batch_max": Spec("GRAPHQL_BATCH_MAX", _non_negative_int, "0"),
        # browser origins allowed to call over CORS (none: closed) and to open the WebSocket (none: only the
        # gateway's own origin); comma-separated scheme://host[:port]
        "graphql_cors_origins": Spec("GRAPHQL_CORS_ORIGINS", origins, ""),
        "graphql_ws_origins": Spec("GRAPHQL_WS_ORIGINS", origins, ""),
    })(lambda raw: _choice("on", "off")(raw) == "on",
       lambda raw: tuple(_url("http", "https")(o.strip()).rstrip("/") for o in raw.split(",") if o.strip())),
    # -- access log settings --
    # access-log rows waiting in memory to be written; when full, operations on personal data are refused
    "access_log_backlog": Spec("ACCESS_LOG_BACKLOG", _positive(int), "10000"),
    # rows written in one transaction (the rows of concurrent operations are grouped)
    "access_log_batch": Spec("ACCESS_LOG_BATCH_SIZE", _positive(int), "500"),
    # how long an operation waits for its access-log rows to be durable before it fails closed
    "access_log_write_timeout_s": Spec("ACCESS_LOG_WRITE_TIMEOUT_SECONDS", _positive(float), "3"),
    # -- keys and ingestion settings --
    # the connector's Ed25519 signing key (base64 of the 32-byte seed); its public key is in AD_TRIAGE_PRODUCERS
    "connector_signing_key": Spec("CONNECTOR_SIGNING_KEY", _key, None),
    # the producers whose observations ad_triage accepts: name:base64-public-key,...; unknown or unsigned: dead letter
    "ad_triage_producers": Spec("AD_TRIAGE_PRODUCERS", _producers, ""),
    # an observation or record whose lastSeen is further in the future than this is refused (clock skew allowance)
    "ingest_clock_skew_s": Spec("INGEST_CLOCK_SKEW_SECONDS", _non_negative_int, "300"),
    # ads one principal may submit through the gateway: a token bucket of this size, refilled at this rate
    "ad_submit_burst": Spec("AD_SUBMIT_BURST", _positive(int), "5000"),
    "ad_submit_per_s": Spec("AD_SUBMIT_PER_SECOND", _positive(float), "20"),
    # how often each ad triage instance looks for a rescore cut short and resumes it (one instance applies a chunk)
    "ad_triage_rescore_s": Spec("AD_TRIAGE_RESCORE_RESUME_SECONDS", _positive(float), "30"),
    "gateway_services": Spec("GATEWAY_SERVICES", lambda raw: tuple(_name(s.strip()) for s in raw.split(",")),
                             "grants,evaluation,ad_triage,outreach,screening"),
    # -- outreach settings --
    # how often each outreach instance looks for overdue visits and decayed concern (each change is made once)
    "outreach_sweep_s": Spec("OUTREACH_SWEEP_SECONDS", _positive(float), "60"),
    # the concern rule set in force (services/outreach/data/concern_rules/<version>.json); empty: the newest
    "outreach_concern_rules": Spec("OUTREACH_CONCERN_RULES_VERSION", str, ""),
    # -- screening settings --
    # how often each screening instance looks for missed deadlines (each escalation is sent once anyway)
    "screening_sweep_s": Spec("SCREENING_SWEEP_SECONDS", _positive(float), "60"),
    # the deadlines in force (services/screening/data/deadlines/<version>.json); empty: the newest
    "screening_deadlines": Spec("SCREENING_DEADLINES_VERSION", str, ""),
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
    principal_key: bytes | None
    oidc_issuer: str | None
    oidc_audience: str
    oidc_jwks_url: str | None
    oidc_algorithms: tuple[str, ...]
    oidc_leeway_s: float
    oidc_role_claim: tuple[str, ...]
    oidc_jwks_cache_s: float
    oidc_jwks_refresh_s: float
    # -- GraphQL edge fields --
    graphql_introspection: bool
    graphiql: bool
    graphql_max_body_bytes: int
    graphql_max_tokens: int
    graphql_max_depth: int
    graphql_max_cost: int
    graphql_max_aliases: int
    graphql_max_list: int
    graphql_batch_max: int
    graphql_cors_origins: tuple[str, ...]
    graphql_ws_origins: tuple[str, ...]
    # -- access log fields --
    access_log_backlog: int = 10000
    access_log_batch: int = 500
    access_log_write_timeout_s: float = 3.0
    # -- keys and ingestion fields --
    connector_signing_key: bytes | None = field(default=None, repr=False)
    ad_triage_producers: dict = field(default_factory=dict, repr=False)
    ingest_clock_skew_s: int = 300
    ad_submit_burst: int = 5000
    ad_submit_per_s: float = 20.0
    ad_triage_rescore_s: float = 30.0
    # -- outreach fields --
    outreach_sweep_s: float = 60.0
    outreach_concern_rules: str = ""
    # -- screening fields --
    screening_sweep_s: float = 60.0
    screening_deadlines: str = ""

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


# keys every process of the platform holds whatever it declares: each one checks the caller's sealed principal
PLATFORM_KEYS = ("principal_key",)


def key_fields() -> tuple[str, ...]:
    """The settings that hold key material (every one parsed by a key parser, whichever block declares it)."""
    return tuple(f for f, spec in SPECS.items() if spec.parse in (_key, _keyring))


def load(service: str, env: Mapping[str, str] | None = None, required: tuple[str, ...] = (),
         keys: tuple[str, ...] | None = None) -> Settings:
    """Read every setting; ``required`` names settings this process cannot run without (checked now, not later).

    ``keys`` names the key settings this process may hold (a process entry point passes what its module declares):
    any other key is not read even when the environment has it, so a process holds only the keys it uses. None
    (tools and tests) reads every key that is set. The same key configured for two purposes is refused.
    """
    env = os.environ if env is None else env
    secret_fields = key_fields()
    allowed = None if keys is None else set(keys) | {f for f in required if f in secret_fields}
    values: dict[str, object] = {}
    problems: list[str] = []
    for name, spec in SPECS.items():
        if allowed is not None and name in secret_fields and name not in allowed:
            values[name] = None
            continue
        raw = env.get(spec.env)
        if raw is None or raw == "":
            raw = spec.default
        if raw is None:
            values[name] = None
            if name in required:
                problems.append(f"{spec.env} is required and not set")
            continue
        try:
            values[name] = spec.parse(raw)
        except ValueError as exc:
            problems.append(f"{spec.env}: {exc}")
    problems += _shared_keys(values, secret_fields)
    if problems:
        raise SettingsError(f"{service}: invalid configuration: " + "; ".join(problems))
    return Settings(service=service, **values)


def _shared_keys(values: dict[str, object], secret_fields: tuple[str, ...]) -> list[str]:
    """One key, one purpose: a key used for two (pseudonyms and encryption, say) is refused, naming both."""
    seen: dict[bytes, str] = {}
    problems = []
    for name in secret_fields:
        value = values.get(name)
        for key in (value.all() if isinstance(value, KeyRing) else (value,) if value else ()):
            material = bytes(key)
            if material in seen and seen[material] != SPECS[name].env:
                problems.append(f"{SPECS[name].env} uses the same key as {seen[material]}: give each purpose its "
                                "own key")
            seen.setdefault(material, SPECS[name].env)
    return problems


def keys_of(module) -> tuple[str, ...]:
    """The key settings a service module may hold: those it requires (REQUIRED_SETTINGS), its optional ones (KEYS)
    and the platform's (PLATFORM_KEYS); a process reads no other key."""
    declared = tuple(getattr(module, "REQUIRED_SETTINGS", ())) + tuple(getattr(module, "KEYS", ())) + PLATFORM_KEYS
    return tuple(k for k in dict.fromkeys(declared) if k in key_fields())


def forget_keys() -> None:
    """Key material lives in the settings object from here on, not in the environment that libraries, child
    processes and crash reporters can read: a process keeps only the keys it loaded."""
    for name in key_fields():
        os.environ.pop(SPECS[name].env, None)


def from_environment(name: str):
    """One setting read as the process starts, for values a decorator needs at import time (a timer's interval)."""
    spec = SPECS[name]
    return spec.parse(os.environ.get(spec.env) or spec.default)
