"""The caller's deadline travels with each RPC request and the service refuses a request past it, without a broker:
the gateway's pool with fake nameko proxies, and the service's command entrypoint with a fake message."""
from __future__ import annotations

import time
from types import SimpleNamespace

import pytest
from nameko.exceptions import RpcTimeout, UnknownService
from nameko.rpc import Rpc

from gateway import rpc as gateway_rpc
from gateway.rpc import NoAnswer, RpcPool, ServiceUnavailable
from kit import nameko_kit
from kit.errors import CommandRejected
from kit.nameko_kit import DEADLINE_KEY, DEADLINE_TOLERANCE_S, Command, expired
from kit.policy import policy
from kit.principal import Principal, seal


class FakeProxy:
    started = stopped = 0

    def __init__(self, config, timeout=None):
        self._worker_ctx = SimpleNamespace(data={})
        self._reply_listener = object()
        self.timeout = timeout

    def start(self):
        FakeProxy.started += 1

    def stop(self):
        FakeProxy.stopped += 1


@pytest.fixture
def pool(monkeypatch):
    sent = []
    outcome = {"fault": None, "publish_fault": None}

    class FakeMethodProxy:
        def __init__(self, worker_ctx, service, method, listener, **options):
            self.worker_ctx, self.service, self.method, self.options = worker_ctx, service, method, options

        def call_async(self, **kwargs):
            if outcome["publish_fault"] is not None:
                raise outcome["publish_fault"]
            sent.append({"service": self.service, "method": self.method, "kwargs": kwargs,
                         "headers": dict(self.worker_ctx.data), "options": self.options, "at": time.time()})
            return self

        def result(self):
            if outcome["fault"] is not None:
                raise outcome["fault"]
            return {"ok": True}

    FakeProxy.started = FakeProxy.stopped = 0
    monkeypatch.setattr(gateway_rpc, "ClusterRpcProxy", FakeProxy)
    monkeypatch.setattr(gateway_rpc, "MethodProxy", FakeMethodProxy)
    settings = SimpleNamespace(amqp_uri="amqp://x/", rpc_timeout_s=7.5, rpc_pool_size=2)
    return RpcPool(settings), sent, outcome


def test_each_request_carries_its_deadline_and_expires_in_the_broker(pool):
    rpc, sent, _ = pool
    assert rpc.call_sync("grants", "disburse", {"request_id": "r-00000001"}, {}) == {"ok": True}
    request = sent[0]
    assert request["options"] == {"expiration": 7.5}  # the AMQP message TTL, counted by the broker
    assert request["at"] + 7.5 - 0.5 < request["headers"][DEADLINE_KEY] <= request["at"] + 7.5
    assert request["kwargs"] == {"request_id": "r-00000001"}


def test_a_timeout_is_no_answer_and_the_proxy_is_discarded(pool):
    rpc, _, outcome = pool
    outcome["fault"] = RpcTimeout(7.5)
    with pytest.raises(NoAnswer):
        rpc.call_sync("grants", "disburse", {}, {})
    assert FakeProxy.stopped == 1


def test_a_connection_lost_after_sending_is_no_answer(pool):
    rpc, _, outcome = pool
    outcome["fault"] = ConnectionResetError("reset by peer")
    with pytest.raises(NoAnswer):
        rpc.call_sync("grants", "disburse", {}, {})
    outcome["fault"] = RuntimeError("This consumer has been disconnected, and can no longer be used")
    with pytest.raises(NoAnswer):
        rpc.call_sync("grants", "disburse", {}, {})


def test_nothing_sent_is_service_unavailable(pool):
    rpc, _, outcome = pool
    outcome["publish_fault"] = UnknownService("grants")
    with pytest.raises(ServiceUnavailable, match="no instance is running"):
        rpc.call_sync("grants", "disburse", {}, {})
    outcome["publish_fault"] = ConnectionRefusedError(111, "Connection refused")
    with pytest.raises(ServiceUnavailable, match="broker connection failed"):
        rpc.call_sync("grants", "disburse", {}, {})


def test_a_publish_broken_half_way_is_no_answer(pool):
    rpc, _, outcome = pool
    outcome["publish_fault"] = TimeoutError("timed out")
    with pytest.raises(NoAnswer):
        rpc.call_sync("grants", "disburse", {}, {})


# -- the service side -------------------------------------------------------------------------------------------
class In:
    """A deadline this many seconds from the moment the test runs (not from when it was collected)."""

    def __init__(self, seconds: float, as_text: bool = False) -> None:
        self.seconds, self.as_text = seconds, as_text

    def value(self):
        moment = time.time() + self.seconds
        return str(moment) if self.as_text else moment


@pytest.mark.parametrize("deadline, refused", [
    (None, False), ("", False), ("soon", False), (True, False), (float("nan"), False), ({"x": 1}, False),
    (In(60), False),
    (In(-DEADLINE_TOLERANCE_S / 2), False),  # within the clock tolerance
    (In(-DEADLINE_TOLERANCE_S - 1), True), (In(-30, as_text=True), True),
])
def test_only_a_deadline_past_the_tolerance_expires(deadline, refused):
    assert expired(deadline.value() if isinstance(deadline, In) else deadline) is refused


KEY = b"p" * 32
OFFICER = {"nameko.principal": seal(Principal("officer", "grant_officer", "ministry"), KEY, time.time() + 600)}


@pytest.fixture
def entrypoint(monkeypatch):
    spawned, answered = [], []
    entry = Command(expected_exceptions=CommandRejected)
    entry.method_name = "disburse"
    entry.container = SimpleNamespace(service_name="grants")
    entry.configure(KEY, policy())
    monkeypatch.setattr(Rpc, "handle_message", lambda self, body, message: spawned.append(body))
    monkeypatch.setattr(entry, "handle_result",
                        lambda message, worker_ctx, result, exc_info: answered.append(exc_info[1]))
    return entry, spawned, answered


def test_the_service_refuses_an_expired_request_without_running_it(entrypoint):
    entry, spawned, answered = entrypoint
    message = SimpleNamespace(headers={f"nameko.{DEADLINE_KEY}": time.time() - 10, **OFFICER})
    entry.handle_message({"args": [], "kwargs": {}}, message)
    assert spawned == []
    assert isinstance(answered[0], CommandRejected) and answered[0].code == "request_expired"


@pytest.mark.parametrize("headers", [{}, "in time"])
def test_a_request_in_time_or_without_deadline_runs(entrypoint, headers):
    entry, spawned, answered = entrypoint
    if headers == "in time":
        headers = {f"nameko.{DEADLINE_KEY}": time.time() + 10}
    headers = {**headers, **OFFICER}
    entry.handle_message({"args": [], "kwargs": {}}, SimpleNamespace(headers=headers))
    assert len(spawned) == 1 and answered == []


def test_commands_use_the_deadline_checking_entrypoint():
    def disburse(self, **kwargs):
        return kwargs
    decorated = nameko_kit.command(disburse)
    entrypoints = decorated.nameko_entrypoints
    assert entrypoints and all(isinstance(e, Command) for e in entrypoints)
