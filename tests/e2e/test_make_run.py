"""`make run`'s supervisor as an operator uses it: it starts the embedded stack and every process, reports ready,
answers the action plan, keeps its data across restarts, and on SIGTERM stops exactly what it started."""
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request

import psutil
import pytest
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from deploy.local.stack import ROOT, free_port
from tests.support.platform import create_vhost, delete_vhost

pytestmark = pytest.mark.stack
PARTS = ("tansu", "object_store.py", "mongo_server.py", "services.grants.service", "services.evaluation.service",
         "services.ad_triage.service", "kit.relay grants", "kit.relay ad_triage", "-m gateway")


@pytest.fixture
def run_env(tmp_path):
    vhost, own = create_vhost()
    yield {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "PYTHONPATH": str(ROOT),
           "ACTIONPLAN_LOCAL_DIR": str(tmp_path / "local"), "GATEWAY_PORT": str(free_port()),
           "LOCAL_KAFKA_PORT": str(free_port()), "LOCAL_MONGO_PORT": str(free_port()),
           "AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost if vhost != '/' else '%2F'}"}
    if own:
        delete_vhost(vhost)


def start(env) -> subprocess.Popen:
    run = subprocess.Popen([sys.executable, "-m", "deploy.local.run"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    deadline, lines = time.monotonic() + 180, []
    while time.monotonic() < deadline:
        lines.append(run.stdout.readline())
        if "actionplan is ready" in lines[-1] or run.poll() is not None:
            break
    assert f"GraphiQL: http://127.0.0.1:{env['GATEWAY_PORT']}/graphql" in "".join(lines), "".join(lines)
    return run


def graphql(env, query: str) -> dict:
    """As a ministry grant officer, with a token of the run's own local issuer (what `make token` prints)."""
    from pathlib import Path

    from deploy.local.issuer import LocalIssuer
    officer = LocalIssuer(Path(env["ACTIONPLAN_LOCAL_DIR"]) / "issuer").ensure().token("grant_officer", "ministry")
    request = urllib.request.Request(f"http://127.0.0.1:{env['GATEWAY_PORT']}/graphql",
                                     json.dumps({"query": query}).encode(),
                                     {"Content-Type": "application/json", "Authorization": f"Bearer {officer}"})
    result = json.loads(urllib.request.urlopen(request, timeout=30).read())
    assert "errors" not in result, result
    return result["data"]


def stop(run: subprocess.Popen) -> None:
    started = psutil.Process(run.pid).children(recursive=True)
    names = " ".join(" ".join(p.cmdline()) for p in started)
    assert all(part in names for part in PARTS), names
    run.send_signal(signal.SIGTERM)
    assert run.wait(60) == 0
    _, alive = psutil.wait_procs(started, timeout=30)
    assert not alive, [" ".join(p.cmdline()) for p in alive]


def events_on_every_topic(env, timeout: float = 60) -> dict[str, set[str]]:
    """Event ids on every topic, read from offset 0 to each partition's high watermark (Tansu 0.6.0's
    ListOffsets(latest) is short when the newest batch holds several records, so it is not used)."""
    bootstrap = f"127.0.0.1:{env['LOCAL_KAFKA_PORT']}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        topics = {t["name"]: len(t["partitions"]) for t in admin.describe_topics() if not t["is_internal"]}
    finally:
        admin.close()
    partitions = [TopicPartition(t, p) for t, n in topics.items() for p in range(n)]
    found: dict[str, set[str]] = {t: set() for t in topics}
    if not partitions:
        return found
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False)
    try:
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        deadline = time.monotonic() + timeout
        while True:
            for tp, batch in consumer.poll(timeout_ms=300).items():
                found[tp.topic].update(dict(r.headers).get("ce_id", b"?").decode() for r in batch)
            marks = {tp: consumer.highwater(tp) for tp in partitions}
            if all(m is not None and consumer.position(tp) >= m for tp, m in marks.items()):
                return found
            assert time.monotonic() < deadline, f"topics not read to their high watermarks {marks}"
    finally:
        consumer.close()


def test_run_starts_everything_keeps_data_and_stops_only_what_it_started(infra, run_env):
    bystanders = [p.popen.pid for p in infra.procs]  # the test session's own servers must survive
    run = start(run_env)
    try:
        plan = graphql(run_env, "{ actionPlan { initiatives { number budgetDkk } } }")["actionPlan"]
        assert [i["budgetDkk"] for i in plan["initiatives"]] == ["3500000", "4500000", None, None]
        graphql(run_env, 'mutation { registerOrganisation(orgId: "DK-CVR-20453044", name: "Ministry", '
                         'roles: [FUNDER], requestId: "make-run-register-1") { id } }')
        deadline = time.monotonic() + 60
        while not any(events_on_every_topic(run_env).values()):  # the relay published the registration
            assert time.monotonic() < deadline, "no event reached Kafka"
            time.sleep(0.5)
        before = events_on_every_topic(run_env)
        stop(run)
        assert all(psutil.pid_exists(pid) for pid in bystanders)

        run = start(run_env)  # same data folder: what was stored is still there
        assert graphql(run_env, "{ organisations { id } }")["organisations"] == [{"id": "DK-CVR-20453044"}]
        after = events_on_every_topic(run_env)  # the broker's data in .local/kafka came back too
        assert all(ids <= after.get(topic, set()) for topic, ids in before.items()), (before, after)
        print(f"\nevents kept across the restart: {sum(map(len, before.values()))} on {len(before)} topics")
        stop(run)
    finally:
        if run.poll() is None:  # a failed assertion: let the supervisor stop what it started, never orphan it
            run.send_signal(signal.SIGTERM)
            try:
                run.wait(60)
            except subprocess.TimeoutExpired:
                run.kill()
