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
from tests.support.waiting import eventually

TEST_KEY = base64.b64encode(b"k" * 32).decode()
NOTES_KEY = base64.b64encode(b"n" * 32).decode()


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
                with ClusterRpcProxy({"AMQP_URI": self.env["AMQP_URI"]}, timeout=2) as rpc:
                    return getattr(rpc, name).health()["status"] == "ok"
            except Exception:
                return False
        eventually(answered, timeout, 0.3, f"{name} answering RPC")

    def rpc(self, timeout: float = 20):
        from nameko.standalone.rpc import ClusterRpcProxy
        return ClusterRpcProxy({"AMQP_URI": self.env["AMQP_URI"], "serializer": "json"}, timeout=timeout)

    def graphql(self, query: str, variables: dict | None = None, headers: dict | None = None) -> dict:
        body = json.dumps({"query": query, "variables": variables or {}}).encode()
        request = urllib.request.Request(f"http://127.0.0.1:{self.gateway_port}/graphql", data=body,
                                         headers={"Content-Type": "application/json", **(headers or {})})
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


def start_infrastructure(workdir: Path) -> Stack:
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "PYTHONPATH": str(ROOT), "PSEUDONYM_KEY": TEST_KEY,
           "NOTES_ENCRYPTION_KEY": NOTES_KEY, "LOG_LEVEL": "INFO", "HOME": str(Path.home())}
    infra = Stack(workdir, env)
    infra.start_kafka(free_port(), workdir / "kafka")
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
