"""Test-session infrastructure: the broker and MongoDB-wire server on free ports, a RabbitMQ vhost per platform,
and the platform's processes started exactly as ``make run`` starts them."""
from __future__ import annotations

import base64
import contextlib
import json
import shutil
import subprocess
import time
import urllib.request
import uuid
from pathlib import Path

from kafka import KafkaConsumer

from deploy.local.stack import ROOT, Proc, Stack, free_port
from kit.settings import Settings, load
from tests.support import tokens
from tests.support.waiting import eventually

# fixed random test keys (the settings refuse low-entropy keys); never used outside the tests
TEST_KEY = "u19de24ycdCNJtQYbAFquW3rvGDRpuOYqlZPogK+dVo="
NOTES_KEY = "YyfT1kjY4OTaDtdR7OpLJid+0/oeHQPmooxLAol5hRw="
PRINCIPAL_KEY = "36ZWSKqRGta3cuAQairiBE6C7PMrk53RLh5RqOoG9w0="  # a fixed test key (random bytes, not for production)


def create_vhost() -> tuple[str, bool]:
    """A private RabbitMQ vhost, so test services never answer another platform's RPC queues."""
    if shutil.which("rabbitmqctl") is None:
        return "/", False
    name = f"actionplan-test-{uuid.uuid4().hex[:8]}"
    subprocess.run(["rabbitmqctl", "-q", "add_vhost", name], check=True, capture_output=True)
    subprocess.run(["rabbitmqctl", "-q", "set_permissions", "-p", name, "guest", ".*", ".*", ".*"], check=True,
                   capture_output=True)
    return name, True


def delete_vhost(name: str) -> None:
    subprocess.run(["rabbitmqctl", "-q", "delete_vhost", name], check=False, capture_output=True)


class Platform:
    """One isolated copy of the platform: its own vhost, database prefix and topic prefix on the shared servers."""

    def __init__(self, infra: Stack, name: str, otlp_endpoint: str | None) -> None:
        self.name = name
        self.vhost, self.own_vhost = create_vhost()
        vhost_path = "%2F" if self.vhost == "/" else self.vhost
        env = dict(infra.env)
        env.update({
            "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost_path}",
            "MONGO_DB_PREFIX": name, "KAFKA_TOPIC_PREFIX": name,
            "CONSUMER_BACKOFF_MS": "50", "RELAY_INTERVAL_MS": "50", "RPC_TIMEOUT_SECONDS": "20",
        })
        if otlp_endpoint:
            env.update({"TRACE_EXPORTER": "otlp", "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_endpoint,
                        "OTEL_BSP_SCHEDULE_DELAY": "100"})
        self.stack = Stack(infra.workdir / name, env)
        self.gateway_port: int | None = None
        # who Platform.graphql acts as when neither as_ nor an Authorization header is given: (role, organisation
        # [, region]) signed by the test issuer, or None for an anonymous request
        self.acting_as: tuple | None = None

    @property
    def env(self) -> dict[str, str]:
        return self.stack.env

    def settings(self, service: str) -> Settings:
        return load(service, self.env)

    def service(self, name: str, module: str | None = None, **extra_env: str) -> Proc:
        proc = self.stack.start_service(name, extra_env, module=module)
        self.wait_rpc(name, proc)
        return proc

    def relay(self, name: str, **extra_env: str) -> Proc:
        return self.stack.start_relay(name, extra_env)

    def gateway(self) -> Proc:
        self.gateway_port = free_port()
        proc = self.stack.start_gateway(self.gateway_port)
        return proc

    def wait_rpc(self, name: str, proc: Proc, timeout: float = 60) -> None:
        from nameko.standalone.rpc import ClusterRpcProxy

        def answered():
            assert proc.alive(), f"{proc.name} exited: {proc.log_path.read_text()[-2000:]}"
            try:
                from tests.support.rpc import context  # health answers the gateway's service account
                with ClusterRpcProxy({"AMQP_URI": self.env["AMQP_URI"]}, timeout=2,
                                     context_data=context(self, "gateway")) as rpc:
                    return getattr(rpc, name).health()["status"] == "ok"
            except Exception:
                return False
        eventually(answered, timeout, 0.3, f"{name} answering RPC")

    def rpc(self, timeout: float = 20):
        from nameko.standalone.rpc import ClusterRpcProxy
        return ClusterRpcProxy({"AMQP_URI": self.env["AMQP_URI"], "serializer": "json"}, timeout=timeout)

    def graphql(self, query: str, variables: dict | None = None, headers: dict | None = None,
                as_: tuple | None = None) -> dict:
        """POST a GraphQL request; ``as_`` = (role, organisation[, region]) sends a bearer token of the test issuer
        (``as_=()``: anonymous), otherwise ``self.acting_as`` does unless ``headers`` has an Authorization header."""
        headers = dict(headers or {})
        if as_ is not None:
            headers = {k: v for k, v in headers.items() if k.lower() != "authorization"}
            who = as_
        else:
            who = None if any(k.lower() == "authorization" for k in headers) else self.acting_as
        if who:
            headers["Authorization"] = tokens.bearer(*who)["Authorization"]
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.gateway_port}/graphql", data=body,
                                         headers={"Content-Type": "application/json", **headers})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            return json.loads(exc.read())

    def topic(self, name: str) -> str:
        return f"{self.name}.{name}"

    def read_topic(self, topic: str, expect: int, timeout: float = 30) -> list:
        consumer = KafkaConsumer(self.topic(topic), bootstrap_servers=self.env["KAFKA_BOOTSTRAP_SERVERS"],
                                 auto_offset_reset="earliest", enable_auto_commit=False, group_id=None,
                                 consumer_timeout_ms=1000)
        records: list = []
        deadline = time.monotonic() + timeout
        try:
            while len(records) < expect and time.monotonic() < deadline:
                for batch in consumer.poll(timeout_ms=500).values():
                    records.extend(batch)
        finally:
            consumer.close()
        return records

    def stop(self) -> None:
        self.stack.stop()
        if self.own_vhost:
            delete_vhost(self.vhost)


# the crawler connector's signing seed in the tests; ad triage accepts observations signed by these producer names
CONNECTOR_SEED = base64.b64decode("Pq3rW8f5Zk1u0yJ2mN6bV9cX4tH7sL3aE1oG8dR5wQk=")
TEST_PRODUCERS = ("crawler-1", "crawler-e2e")


def connector_env() -> dict[str, str]:
    from kit.signing import public_key_of
    public = public_key_of(CONNECTOR_SEED)
    return {"CONNECTOR_SIGNING_KEY": base64.b64encode(CONNECTOR_SEED).decode(),
            "AD_TRIAGE_PRODUCERS": ",".join(f"{name}:{public}" for name in TEST_PRODUCERS)}


# services that exist only in the tests (a deliberately failing consumer, evaluation under another name for a
# replay) need policy entries like any other; the test session's policy is the repository's plus these
TEST_ONLY_OPERATIONS = {
    "flaky.health": {"gateway": "any", "operator": "any"},
    "evaluation_replay.health": {"gateway": "any", "operator": "any"},
    "evaluation_replay.activity_counts": {"evaluator": "any", "grant_officer": "any", "operator": "any"},
}


def test_policy_file(workdir: Path) -> Path:
    lines = [(ROOT / "policy" / "access.toml").read_text(), "\n# -- test-only services (tests/support/platform.py) --"]
    for operation, allow in TEST_ONLY_OPERATIONS.items():
        roles = ", ".join(f'{role} = "{scope}"' for role, scope in allow.items())
        lines.append(f'[operations."{operation}"]\nallow = {{ {roles} }}\n')
    path = workdir / "access-policy.toml"
    path.write_text("\n".join(lines))
    return path


def start_infrastructure(workdir: Path) -> Stack:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PSEUDONYM_KEY": TEST_KEY,
           "NOTES_ENCRYPTION_KEY": NOTES_KEY, "PRINCIPAL_KEY": PRINCIPAL_KEY, "LOG_LEVEL": "INFO",
           "HOME": str(Path.home())}
    env.update(tokens.issuer(workdir / "issuer").env())  # the gateways trust the session's local issuer
    env.update(connector_env())
    env["ACCESS_POLICY_FILE"] = str(test_policy_file(workdir))
    infra = Stack(workdir, env)
    infra.start_kafka(free_port(), workdir / "kafka")
    infra.start_partner_listener(free_port())
    infra.start_mongo(free_port(), workdir / "mongo")
    infra.ensure_rabbitmq()
    return infra


@contextlib.contextmanager
def running(infra: Stack, otlp, prefix: str, services: dict[str, dict[str, str]], relays: tuple[str, ...] = (),
            gateway: bool = True):
    """An isolated platform with the given services (name -> extra environment), relays and gateway; stopped after."""
    platform = Platform(infra, f"{prefix}{uuid.uuid4().hex[:8]}", otlp.endpoint)
    try:
        for name, extra_env in services.items():
            platform.service(name, **extra_env)
        for name in relays:
            platform.relay(name)
        if gateway:
            platform.gateway()
        yield platform
    finally:
        platform.stop()
