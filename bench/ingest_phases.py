"""Where an ad triage ingest spends its time: the service's own ingestion code (commands/sources.py) against a real
MongoDB-wire server, in this process, with the time of each store method, of parsing and of each collection's bulk
writes summed per stage. A diagnostic beside `make bench`, whose figures it explains; nothing here is a target.

    python -m bench.ingest_phases [--ads 30000] [--chunk 1000] [--every 10000] [--mongo-uri URI]

Without ``--mongo-uri`` it starts its own nx-27017 (deploy/local/stack.py) in a temporary directory. Each stage of
``--every`` ads prints its rate and the seconds per chunk of each phase, largest first; phases nest (``ingest``
holds the store's methods, ``write_clusters`` holds the queue's bulk writes), so they do not add up.
"""
from __future__ import annotations

import argparse
import collections
import functools
import io
import sys
import tempfile
import time
import uuid
from contextlib import ExitStack, contextmanager
from pathlib import Path

from pymongo.collection import Collection

from deploy.local.stack import Stack, free_port
from kit.mongo import connect
from kit.outbox import Outbox
from kit.settings import load
from services.ad_triage.commands import assessment, ingestion, sources
from services.ad_triage.commands.sources import Sources
from services.ad_triage.storage import AdTriageStore
from services.ad_triage.tools.generate_ads import generate, write_jsonl
from tests.support.memory_store import KEYS

STORE_METHODS = ("ads_by_id", "links", "candidates", "clusters_by_id", "save_ads", "write_signatures", "relabel",
                 "write_links", "write_clusters", "add_quarantined")


class Phases:
    """Seconds and documents per phase, summed until ``take``."""

    def __init__(self) -> None:
        self.seconds: collections.Counter = collections.Counter()
        self.documents: collections.Counter = collections.Counter()

    def timed(self, owner, name: str, label: str | None = None):
        original = getattr(owner, name)

        @functools.wraps(original)
        def run(*args, **kwargs):
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                self.seconds[label or name] += time.perf_counter() - started
        return run

    def bulk(self, original):
        @functools.wraps(original)
        def run(collection, requests, *args, **kwargs):
            requests = list(requests)
            name = "queue rows" if collection.name.startswith("queue_") else collection.name
            started = time.perf_counter()
            try:
                return original(collection, requests, *args, **kwargs)
            finally:
                self.seconds[f"bulk write: {name}"] += time.perf_counter() - started
                self.documents[f"bulk write: {name}"] += len(requests)
        return run

    def take(self) -> tuple[collections.Counter, collections.Counter]:
        taken = (self.seconds, self.documents)
        self.seconds, self.documents = collections.Counter(), collections.Counter()
        return taken


@contextmanager
def patched(owner, name: str, replacement):
    original = getattr(owner, name)
    setattr(owner, name, replacement)
    try:
        yield
    finally:
        setattr(owner, name, original)


@contextmanager
def instrumented(phases: Phases):
    with ExitStack() as stack:
        for name in STORE_METHODS:
            stack.enter_context(patched(AdTriageStore, name, phases.timed(AdTriageStore, name)))
        stack.enter_context(patched(sources, "split_lines", phases.timed(sources, "split_lines", "parse")))
        stack.enter_context(patched(ingestion, "own_score", phases.timed(ingestion, "own_score")))
        stack.enter_context(patched(ingestion, "signature", phases.timed(ingestion, "signature")))
        stack.enter_context(patched(ingestion, "settle", phases.timed(ingestion, "settle")))
        stack.enter_context(patched(assessment, "best_of_members",
                                    phases.timed(assessment, "best_of_members")))
        stack.enter_context(patched(Outbox, "add_many", phases.timed(Outbox, "add_many", "outbox")))
        stack.enter_context(patched(ingestion.Ingestion, "ingest",
                                    phases.timed(ingestion.Ingestion, "ingest")))
        stack.enter_context(patched(Collection, "bulk_write", phases.bulk(Collection.bulk_write)))
        yield


def report(done: int, count: int, seconds: float, chunks: int, phases: Phases) -> str:
    spent, documents = phases.take()
    lines = [f"ads {done - count + 1:,} to {done:,}: {count / seconds:,.0f} ads/s; per chunk:"]
    for name, total in spent.most_common():
        docs = f" ({documents[name] / chunks:,.0f} documents)" if documents.get(name) else ""
        lines.append(f"  {name:28s} {total / chunks:7.3f} s{docs}")
    return "\n".join(lines)


def run(uri: str, ads: int, chunk: int, every: int, seed: int = 7, out=sys.stdout) -> None:
    settings = load("ad_triage", {**KEYS, "MONGO_URI": uri, "MONGO_DB_PREFIX": f"phases{uuid.uuid4().hex[:6]}"})
    client = connect(settings)
    db = client[settings.database]
    store = AdTriageStore(client, db, Outbox(db, settings), settings)
    store.setup()
    buffer = io.StringIO()
    write_jsonl(generate(ads, seed), buffer)
    lines = buffer.getvalue().splitlines()
    phases = Phases()
    try:
        with instrumented(phases):
            importer = Sources(store)
            stage_start, stage_from = time.perf_counter(), 0
            for start in range(0, len(lines), chunk):
                importer.import_batch(lines[start:start + chunk], "jsonl", "bench", None, start + 1, "import")
                done = min(len(lines), start + chunk)
                if done - stage_from >= every or done == len(lines):
                    elapsed = time.perf_counter() - stage_start
                    chunks = -(-(done - stage_from) // chunk)
                    print(report(done, done - stage_from, elapsed, chunks, phases), file=out, flush=True)
                    stage_start, stage_from = time.perf_counter(), done
    finally:
        client.drop_database(settings.database)
        client.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.ingest_phases")
    parser.add_argument("--ads", type=int, default=30_000)
    parser.add_argument("--chunk", type=int, default=1000)
    parser.add_argument("--every", type=int, default=10_000, help="ads per reported stage")
    parser.add_argument("--mongo-uri", help="a MongoDB-wire server to use (default: start nx-27017)")
    args = parser.parse_args(argv)
    if min(args.ads, args.chunk, args.every) < 1:
        parser.error("--ads, --chunk and --every must be positive")
    if args.mongo_uri:
        run(args.mongo_uri, args.ads, args.chunk, args.every)
        return 0
    with tempfile.TemporaryDirectory(prefix="actionplan-phases-") as workdir:
        stack = Stack(Path(workdir), {})
        try:
            stack.start_mongo(free_port(), Path(workdir) / "mongo")
            run(stack.env["MONGO_URI"], args.ads, args.chunk, args.every)
        finally:
            stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
