"""The outreach read path at scale: a page of the digital outreach task list (the queue outreach workers refresh)
at 1,000 and at 100,000 tasks, p50 and p99 over RPC with 1 and 8 concurrent readers, beside the same service's
``health`` RPC at the same concurrency (the cost of a round trip that reads nothing).

The tasks are written straight into the service's database in the shape the service writes them (seeding 100,000
through Kafka would measure ingestion, not the read path)."""
from __future__ import annotations

import random
from collections import Counter
import statistics
import threading
import time
from datetime import datetime, timedelta, timezone

from pymongo import MongoClient

from bench.ad_triage import entry
from services.outreach.domain.tasks import PRIORITY_RANK, task_id_for
from services.outreach.storage import TASK_COUNTS, count_keys
from tests.support.rpc import rpc_as

SIZES = (1_000, 100_000)
READERS = (1, 4)
CALLS_PER_READER = 30
REGIONS = {"københavn": "hovedstaden", "aarhus": "midtjylland", "odense": "syddanmark",
           "næstved": "sjaelland", "roskilde": "sjaelland", "aalborg": "nordjylland"}
CITIES = ("københavn", "aarhus", "odense", "næstved", "roskilde", "aalborg", None)


def _task(i: int, rng: random.Random) -> dict:
    cluster = f"cl-{i:016x}"
    priority = rng.choice(("high", "medium", "medium", "low", "low", "low", "none"))
    city = rng.choice(CITIES)
    opened = (datetime(2016, 1, 1, tzinfo=timezone.utc) + timedelta(minutes=i)).isoformat()
    return {"_id": task_id_for(cluster), "cluster_id": cluster, "state": rng.choice(("open", "open", "in_progress",
                                                                                     "closed")),
            "priority": priority, "priority_rank": PRIORITY_RANK[priority], "score": round(rng.uniform(0, 9), 2),
            "ruleset_version": "1.0.0", "ad_keys": [f"dkescort.example/{i}"], "ad_count": 1,
            "cities": [city] if city else [], "regions": [REGIONS[city]] if city else [], "opened_at": opened, "updated_at": opened,
            "attempts": [], "closed_reason": None, "merged_into": None}


def seed(platform, upto: int, start: int) -> None:
    settings = platform.settings("outreach")
    client = MongoClient(platform.env["MONGO_URI"])
    rng = random.Random(start)
    db = client[settings.database]
    counts: Counter = Counter()
    for lo in range(start, upto, 2000):
        batch = [_task(i, rng) for i in range(lo, min(upto, lo + 2000))]
        db["tasks"].insert_many(batch, ordered=False)
        counts.update(key for task in batch for key in count_keys(task))
    for key, n in counts.items():  # the totals the service keeps with each task write
        db[TASK_COUNTS].update_one({"_id": key}, {"$inc": {"n": n}}, upsert=True)
    client.close()


def latencies(platform, readers: int, call, role: tuple[str, str | None],
              calls: int = CALLS_PER_READER) -> list[float]:
    times: list[float] = []
    failures: list[BaseException] = []
    lock = threading.Lock()

    def reader():
        try:
            read()
        except BaseException as exc:  # a failed reader must fail the benchmark, not shorten it
            failures.append(exc)

    def read():
        with rpc_as(platform, *role, timeout=60) as rpc:
            call(rpc)  # connects before the clock starts
            for _ in range(calls):
                start = time.perf_counter()
                call(rpc)
                with lock:
                    times.append(time.perf_counter() - start)
    threads = [threading.Thread(target=reader) for _ in range(readers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if failures:
        raise failures[0]
    return times


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] * 1000 if len(values) > 1 else values[0] * 1000


def run(platform) -> list[dict]:
    platform.service("outreach")
    entries, seeded = [], 0
    for size in SIZES:
        seed(platform, size, seeded)
        seeded = size
        for readers in READERS:
            print(f"outreach: {size} tasks, {readers} readers", flush=True)
            page = latencies(platform, readers, lambda rpc: rpc.outreach.tasks(first=20), ("caseworker", "cmm"))
            health = latencies(platform, readers, lambda rpc: rpc.outreach.health(), ("gateway", None))
            for q in (50, 99):
                entries.append(entry(f"outreach.tasks_page_p{q}_{size // 1000}k_tasks_{readers}_readers",
                                     p(page, q), "ms", p(health, q)))
    return entries
