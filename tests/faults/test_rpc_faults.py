"""RPC faults between the gateway and a service, on a PRIVATE RabbitMQ node so no other test sees them.

(a) RabbitMQ restart under load: clients send a stream of commands through the gateway, the node is restarted in the
    middle, and every call that fails or times out is retried with the same requestId until it succeeds. Each request
    id must have exactly one effect (one application document, one outbox row, one request record).
(b) An abandoned command: with the grants service stopped, a command times out at the gateway (outcome_unknown); the
    service is started after the deadline: the command never runs (the broker let the message expire, and the service
    refuses a request past its deadline). A retry with the same requestId then runs it exactly once.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy
from pymongo import MongoClient

from deploy.local.stack import free_port, port_open
from kit.errors import CommandRejected
from kit.nameko_kit import DEADLINE_KEY, DEADLINE_TOLERANCE_S
from tests.faults.support import report
from tests.support.rpc import context
from tests.support.tokens import bearer
from tests.support.waiting import eventually

pytestmark = pytest.mark.stack

OFFICER = bearer("grant_officer", "ministry", subject="officer-faults")
UNIVERSITY, NGO = "DK-CVR-11234569", "DK-CVR-10000009"
REGISTER = """mutation($rid: String!, $org: String!, $name: String!, $roles: [OrganisationRole!]!) {
  registerOrganisation(orgId: $org, name: $name, roles: $roles, requestId: $rid) { id } }"""
DRAFT = f"""mutation($rid: String!, $title: String!) {{ draftGrantApplication(poolCode: "digital-outreach-pool",
  applicantId: "{NGO}", knowledgePartnerId: "{UNIVERSITY}", title: $title, description: "Methods",
  requestedOre: 100000, start: "2016-03-01", end: "2017-12-31", requestId: $rid) {{ id }} }}"""
# what a client retries (with the same requestId); anything else is a real refusal and fails the test
RETRYABLE = {"outcome_unknown", "service_unavailable", "service_timeout", "request_expired", "internal_error"}


class PrivateRabbit:
    """A RabbitMQ node of its own (name, ports, data and logs in a temp dir); the Erlang cookie is shared."""

    def __init__(self) -> None:
        self.base = Path(tempfile.mkdtemp(prefix="rpc-faults-rabbit-"))
        os.chmod(self.base, 0o777)  # the server runs as the rabbitmq user
        self.port, self.dist_port = free_port(), free_port()
        self.node = f"rpcfaults{uuid.uuid4().hex[:8]}@localhost"
        conf, plugins = self.base / "rabbitmq.conf", self.base / "enabled_plugins"
        conf.write_text(f"listeners.tcp.local = 127.0.0.1:{self.port}\n")  # the shared config names 5672
        plugins.write_text("[].\n")  # no management plugin: its port would clash with the session's node
        for path in (conf, plugins):
            os.chmod(path, 0o644)
        self.pid_file = self.base / "rabbit.pid"
        self.env = {**os.environ, "RABBITMQ_NODENAME": self.node, "RABBITMQ_NODE_PORT": str(self.port),
                    "RABBITMQ_DIST_PORT": str(self.dist_port), "RABBITMQ_MNESIA_BASE": str(self.base / "mnesia"),
                    "RABBITMQ_LOG_BASE": str(self.base / "log"), "RABBITMQ_CONFIG_FILE": str(conf),
                    "RABBITMQ_ENABLED_PLUGINS_FILE": str(plugins), "RABBITMQ_PID_FILE": str(self.pid_file)}

    @property
    def uri(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.port}/%2F"

    def start(self, timeout: float = 90) -> float:
        began = time.monotonic()
        subprocess.run(["rabbitmq-server", "-detached"], env=self.env, check=True, capture_output=True)
        eventually(lambda: port_open("127.0.0.1", self.port), timeout, 0.2, f"RabbitMQ node {self.node}")
        return time.monotonic() - began

    def stop(self) -> None:
        subprocess.run(["rabbitmqctl", "-q", "-n", self.node, "stop", str(self.pid_file)], env=self.env,
                       check=False, capture_output=True, timeout=60)

    def queue_depth(self, name: str) -> int | None:
        out = subprocess.run(["rabbitmqctl", "-q", "-n", self.node, "list_queues", "name", "messages"],
                             env=self.env, check=False, capture_output=True, text=True, timeout=30).stdout
        for line in out.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == name and parts[1].isdigit():
                return int(parts[1])
        return None

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def rabbit():
    if shutil.which("rabbitmq-server") is None:
        pytest.skip("rabbitmq-server is not installed")
    node = PrivateRabbit()
    node.start()
    try:
        yield node
    finally:
        node.stop()
        node.remove()


def platform_on(make_platform, rabbit: PrivateRabbit, rpc_timeout: float):
    platform = make_platform()
    platform.env.update({"AMQP_URI": rabbit.uri, "RPC_TIMEOUT_SECONDS": f"{rpc_timeout:g}"})
    return platform


def grants_db(platform):
    return MongoClient(platform.env["MONGO_URI"])[platform.settings("grants").database]


def send(platform, query: str, variables: dict, field: str, codes: Counter, give_up_at: float):
    """One client command: retried with the same variables (so the same requestId) until it succeeds."""
    attempts = 0
    while True:
        attempts += 1
        try:
            result = platform.graphql(query, variables, headers=OFFICER)
        except OSError as exc:  # the gateway's HTTP answer itself was lost: as unknown as a timeout
            codes[type(exc).__name__] += 1
        else:
            if "errors" not in result:
                return result["data"][field], attempts
            code = (result["errors"][0].get("extensions") or {}).get("code")
            assert code in RETRYABLE, result["errors"]
            codes[code] += 1
        assert time.monotonic() < give_up_at, f"{variables['rid']} still failing after {attempts} attempts: {codes}"
        time.sleep(0.2)


def register_parties(platform, codes: Counter, give_up_at: float) -> None:
    for org, name, roles in ((UNIVERSITY, "University", ["KNOWLEDGE_INSTITUTION"]), (NGO, "NGO", ["APPLICANT"])):
        send(platform, REGISTER, {"rid": f"reg-{org}-{platform.name}", "org": org, "name": name, "roles": roles},
             "registerOrganisation", codes, give_up_at)


def effects(db, rid: str) -> dict:
    apps = [a["_id"] for a in db.applications.find({"title": f"Load {rid}"}, {"_id": 1})]
    return {"applications": len(apps), "outbox": db.outbox.count_documents({"key": {"$in": apps}}) if apps else 0,
            "requests": db.requests.count_documents({"_id": f"draft_application:{rid}"})}


def refused_in_logs(procs) -> int:
    """Requests the service refused as expired (a restarted service appends to the same log file)."""
    paths = {p.log_path for p in procs if p.log_path.exists()}
    return sum(path.read_text(errors="replace").count("deadline passed") for path in paths)


def test_rabbitmq_restart_under_load_a_retried_command_with_the_same_request_id_has_exactly_one_effect(
        rabbit, make_platform):
    began = time.monotonic()
    platform = platform_on(make_platform, rabbit, rpc_timeout=4)
    service = platform.service("grants")
    platform.gateway()
    codes: Counter = Counter()
    give_up_at = time.monotonic() + 150
    register_parties(platform, codes, give_up_at)

    lock = threading.Lock()
    issued: list[str] = []
    attempts: Counter = Counter()
    done_before, done_after = [], []
    restart = {"started": threading.Event(), "done": threading.Event(), "down_s": 0.0, "start_s": 0.0}

    def client(worker: int) -> None:
        n = 0
        while not (restart["done"].is_set() and len(done_after) >= 12) and len(issued) < 400:
            rid = f"load-{worker}-{n}-{uuid.uuid4().hex[:8]}"
            n += 1
            with lock:
                issued.append(rid)
            after = restart["done"].is_set()
            _, tries = send(platform, DRAFT, {"rid": rid, "title": f"Load {rid}"}, "draftGrantApplication", codes,
                            give_up_at)
            with lock:
                attempts[rid] = tries
                (done_after if after else done_before).append(rid)

    def restarter() -> None:
        eventually(lambda: len(done_before) >= 12, 60, 0.05, "commands before the restart")
        restart["started"].set()
        t0 = time.monotonic()
        rabbit.stop()
        restart["down_s"] = time.monotonic() - t0
        restart["start_s"] = rabbit.start()
        restart["done"].set()

    with ThreadPoolExecutor(5) as pool:
        futures = [pool.submit(client, w) for w in range(4)] + [pool.submit(restarter)]
        for future in futures:
            future.result()

    db = grants_db(platform)
    per_request = {rid: effects(db, rid) for rid in issued}
    counts = Counter(e["applications"] for e in per_request.values())
    duplicates = sum(e["applications"] - 1 for e in per_request.values() if e["applications"] > 1)
    lost = counts[0]
    retried = sum(1 for t in attempts.values() if t > 1)
    # retries that produced no second effect: the duplicates the request ids suppressed (or never needed to)
    suppressed = sum(attempts[rid] - 1 for rid, e in per_request.items() if e["applications"] == 1)
    report("RPC: RabbitMQ restart under load, retries with the same requestId", sent=len(issued),
           received=len(issued) - lost, duplicates=suppressed, lost=lost, duplicate_effects=duplicates,
           retried_commands=retried,
           attempts=sum(attempts.values()), failed_attempts=dict(codes), before_restart=len(done_before),
           after_restart=len(done_after), broker_down_s=round(restart["down_s"] + restart["start_s"], 1),
           refused_expired=refused_in_logs([service]), wall_s=round(time.monotonic() - began, 1))
    assert retried > 0, "no command was caught by the restart; the scenario proved nothing"
    wrong = {rid: e for rid, e in per_request.items() if e != {"applications": 1, "outbox": 1, "requests": 1}}
    assert wrong == {}
    assert db.applications.count_documents({"title": {"$regex": "^Load "}}) == len(issued)


def test_an_abandoned_command_never_runs_later_and_its_retry_runs_once(rabbit, make_platform):
    timeout = 3.0
    began = time.monotonic()
    platform = platform_on(make_platform, rabbit, rpc_timeout=timeout)
    first = platform.service("grants")
    platform.gateway()
    codes: Counter = Counter()
    register_parties(platform, codes, time.monotonic() + 60)
    db = grants_db(platform)

    # no instance has ever consumed evaluation's queue on this broker: certainly not run
    absent = platform.graphql("{ evaluation { activity { metric } } }", headers=OFFICER)
    assert absent["errors"][0]["extensions"]["code"] == "service_unavailable"

    first.stop()
    rid = f"abandoned-{uuid.uuid4().hex}"
    variables = {"rid": rid, "title": f"Load {rid}"}
    sent_at = time.monotonic()
    answer = platform.graphql(DRAFT, variables, headers=OFFICER)
    waited = time.monotonic() - sent_at
    error = answer["errors"][0]
    assert error["extensions"]["code"] == "outcome_unknown", answer
    assert "may or may not have run" in error["message"] and "same requestId" in error["message"]
    assert timeout - 0.5 <= waited < timeout + 5

    time.sleep(max(0.0, sent_at + timeout + DEADLINE_TOLERANCE_S + 1 - time.monotonic()))  # past the deadline
    depth_before_start = rabbit.queue_depth("rpc-grants")
    second = platform.service("grants")
    time.sleep(2)  # time for a queued request to be consumed, if one had survived
    assert effects(db, rid) == {"applications": 0, "outbox": 0, "requests": 0}

    # the service's own check, for a request the broker did not expire (no TTL, deadline already past)
    late = f"late-{uuid.uuid4().hex}"
    config = {"AMQP_URI": rabbit.uri, "serializer": "json"}
    officer = context(platform, "grant_officer", "ministry")  # allowed: only the deadline refuses it
    with ClusterRpcProxy(config, context_data={DEADLINE_KEY: time.time() - 30, **officer}, timeout=20) as proxy, \
            pytest.raises(RemoteError) as refused:
        proxy.grants.draft_application(pool_code="digital-outreach-pool", applicant_id=NGO,
                                       knowledge_partner_id=UNIVERSITY, title=f"Load {late}", description="Methods",
                                       requested_ore=100000, start="2016-03-01", end="2017-12-31",
                                       actor="officer-faults", request_id=late)
    assert refused.value.exc_type == "CommandRejected"
    assert CommandRejected.parse(refused.value.value).code == "request_expired"
    assert effects(db, late) == {"applications": 0, "outbox": 0, "requests": 0}

    # the client retries with the same requestId: it runs now, once; a further retry gets the same answer
    app_id, tries = send(platform, DRAFT, variables, "draftGrantApplication", codes, time.monotonic() + 60)
    again, _ = send(platform, DRAFT, variables, "draftGrantApplication", codes, time.monotonic() + 60)
    assert again == app_id
    assert effects(db, rid) == {"applications": 1, "outbox": 1, "requests": 1}
    refused_count = refused_in_logs([first, second])
    report("RPC: abandoned command (service down past the deadline)", sent=1, received=1, duplicates=0, lost=0,
           outcome_unknown_after_s=round(waited, 1), queued_when_service_started=depth_before_start,
           refused_expired=refused_count, retry_attempts=tries, wall_s=round(time.monotonic() - began, 1))
