"""The triage queue page as outreach staff load it: ``Query.triageQueue(first: 20)`` through the real gateway over
HTTP with a CMM outreach worker's bearer token, p50 and p99 with 1 and 16 concurrent readers, beside the gateway's
own ``GET /healthz`` at the same concurrency (the cost of an HTTP round trip that reads nothing).

Every reader is a thread with its own persistent connection (HTTP/1.1 keep-alive), makes one untimed call first
(connects; the gateway's first look at the token), waits for the others, then times its calls. Every answer is
checked: a page with ``errors``, no data or no items fails the benchmark; it is never timed as a fast answer."""
from __future__ import annotations

import http.client
import json
import statistics
import threading
import time
from dataclasses import dataclass
from typing import Callable

from tests.support import tokens

# what an outreach worker's queue shows of each cluster
QUERY = ("query { triageQueue(first: 20) { totalCount items { clusterId score priority adCount cities platforms "
         "lastSeen bestAdKey state evidence { indicatorId weight } } pageInfo { endCursor hasNextPage } } }")
READERS = (1, 16)
CALLS_PER_READER = 40
WHO = ("outreach_worker", "cmm")  # policy/access.toml: Query.triageQueue allows outreach_worker (own_region)


class BenchmarkCallFailed(AssertionError):
    """A call answered with an error: the benchmark fails instead of timing it."""


@dataclass(frozen=True)
class Call:
    """One request: ``send`` is timed (request out, whole answer read); ``check`` runs on its answer after the clock
    stops and raises on a failed answer."""
    send: Callable[[http.client.HTTPConnection], tuple[int, bytes]]
    check: Callable[[int, bytes], None]


def _request(method: str, path: str, body: bytes | None = None, headers: dict | None = None):
    def send(connection: http.client.HTTPConnection) -> tuple[int, bytes]:
        connection.request(method, path, body=body, headers=headers or {})
        response = connection.getresponse()
        return response.status, response.read()  # read to the end: the connection is reused
    return send


def queue_page_call(token: str) -> Call:
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
    return Call(_request("POST", "/graphql", json.dumps({"query": QUERY}).encode(), headers), _check_page)


def healthz_call() -> Call:
    return Call(_request("GET", "/healthz"), _check_health)


def _check_page(status: int, raw: bytes) -> None:
    try:
        answer = json.loads(raw)
    except ValueError:
        raise BenchmarkCallFailed(f"triageQueue answered HTTP {status} with no JSON: {raw[:300]!r}") from None
    if status != 200 or answer.get("errors"):
        raise BenchmarkCallFailed(f"triageQueue answered HTTP {status}: {json.dumps(answer)[:500]}")
    page = (answer.get("data") or {}).get("triageQueue")
    if not page or not page.get("items"):
        raise BenchmarkCallFailed(f"triageQueue answered an empty page: {json.dumps(answer)[:500]}")


def _check_health(status: int, raw: bytes) -> None:
    try:
        ok = status == 200 and json.loads(raw).get("status") == "ok"
    except ValueError:
        ok = False
    if not ok:
        raise BenchmarkCallFailed(f"/healthz answered HTTP {status}: {raw[:300]!r}")


def latencies(port: int, readers: int, call: Call, calls: int) -> list[float]:
    """Seconds per call of ``readers`` concurrent readers making ``calls`` calls each (after an untimed one)."""
    times: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()
    ready = threading.Barrier(readers)

    def reader():
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        try:
            call.check(*call.send(connection))  # connects before the clock starts
            ready.wait(timeout=120)
            own = []
            for _ in range(calls):
                start = time.perf_counter()
                answer = call.send(connection)
                elapsed = time.perf_counter() - start
                call.check(*answer)  # a failure raises here, before it is counted
                own.append(elapsed)
            with lock:
                times.extend(own)
        except BaseException as exc:  # a failed reader must fail the benchmark, not shorten it
            failures.append(exc)
            ready.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=reader, name=f"bench-reader-{i}") for i in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        first = next((f for f in failures if not isinstance(f, threading.BrokenBarrierError)), failures[0])
        raise first
    if len(times) != readers * calls:
        raise BenchmarkCallFailed(f"{len(times)} timed calls, expected {readers * calls}")
    return times


def p(values: list[float], q: int) -> float:
    """The q-th percentile in milliseconds."""
    return statistics.quantiles(values, n=100)[q - 1] * 1000 if len(values) > 1 else values[0] * 1000


def size_label(n: int) -> str:
    return f"{n // 1000}k" if n >= 1000 and n % 1000 == 0 else str(n)


def entry_name(q: int, size: int, readers: int) -> str:
    return f"ad_triage.queue_page_p{q}_{size_label(size)}_ads_{readers}_readers"


def rpc_entry_name(q: int, size: int, readers: int) -> str:
    return f"ad_triage.queue_rpc_p{q}_{size_label(size)}_ads_{readers}_readers"


def names(size: int, readers: tuple[int, ...] = READERS) -> list[str]:
    """The entries ``measure`` reports at ``size`` ads, in order."""
    return [name(q, size, r) for r in readers for name in (entry_name, rpc_entry_name) for q in (50, 99)]


def _outbox_drained(platform, timeout: float = 600) -> None:
    """Wait until the relay has published every event: a page timed beside a busy relay measures the relay."""
    from pymongo import MongoClient
    client = MongoClient(platform.env["MONGO_URI"])
    try:
        outbox = client[platform.settings("ad_triage").database].outbox
        deadline = time.monotonic() + timeout
        while outbox.count_documents({"status": "pending"}, limit=1):
            if time.monotonic() > deadline:
                raise TimeoutError("the relay did not publish the outbox in time")
            time.sleep(0.5)
    finally:
        client.close()


def _check_rpc_page(page: dict) -> None:
    if not page.get("items"):
        raise BenchmarkCallFailed(f"ad_triage.queue answered an empty page (total {page.get('total')})")


def measure(platform, size: int, readers: tuple[int, ...] = READERS, calls: int = CALLS_PER_READER,
            log=print) -> list[dict]:
    """The queue page beside /healthz at each concurrency, with ``size`` ads ingested (entries named by size)."""
    from bench.ad_triage import entry
    if platform.gateway_port is None:
        raise RuntimeError("the gateway is not running (platform.gateway())")
    from bench.outreach import latencies as rpc_latencies
    _outbox_drained(platform)
    entries = []
    for count in readers:
        page_call = queue_page_call(tokens.token(*WHO, subject="bench-outreach-worker"))  # fresh: a run is long
        page = latencies(platform.gateway_port, count, page_call, calls)
        health = latencies(platform.gateway_port, count, healthz_call(), calls)
        for q in (50, 99):
            entries.append(entry(entry_name(q, size, count), p(page, q), "ms", p(health, q)))
        log(f"queue page at {size:,} ads, {count} readers: p50 {p(page, 50):.1f} ms, p99 {p(page, 99):.1f} ms "
            f"(/healthz p50 {p(health, 50):.1f} ms, p99 {p(health, 99):.1f} ms)")
        # the service's own read path, beside the same service's health RPC: what the gateway adds is not in it
        rpc_page = rpc_latencies(platform, count, lambda rpc: _check_rpc_page(rpc.ad_triage.queue(limit=20)),
                                 WHO, calls)
        rpc_health = rpc_latencies(platform, count, lambda rpc: rpc.ad_triage.health(), ("gateway", None), calls)
        for q in (50, 99):
            entries.append(entry(rpc_entry_name(q, size, count), p(rpc_page, q), "ms", p(rpc_health, q)))
        log(f"queue RPC at {size:,} ads, {count} readers: p50 {p(rpc_page, 50):.1f} ms, p99 {p(rpc_page, 99):.1f} "
            f"ms (health RPC p50 {p(rpc_health, 50):.1f} ms, p99 {p(rpc_health, 99):.1f} ms)")
    return entries
