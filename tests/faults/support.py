"""What every fault scenario shares: strict reading of whole topics and one way to report its figures.

A reader that stops at the number of records it hopes for cannot see duplicates, so ``read_all`` reads every
partition up to the end offsets it found when it started, however many records that is.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field

from kafka import KafkaConsumer, TopicPartition

FIGURES: list["Figures"] = []  # printed at the end of the session by tests/faults/conftest.py


@dataclass
class Figures:
    scenario: str
    sent: int
    received: int
    duplicates: int
    lost: int
    extra: dict = field(default_factory=dict)

    def line(self) -> str:
        more = "".join(f", {k} = {v}" for k, v in self.extra.items())
        return (f"{self.scenario}: sent = {self.sent}, received = {self.received}, "
                f"duplicates suppressed = {self.duplicates}, lost = {self.lost}{more}")


def report(scenario: str, sent: int, received: int, duplicates: int, lost: int, **extra) -> Figures:
    figures = Figures(scenario, sent, received, duplicates, lost, extra)
    FIGURES.append(figures)
    print(figures.line(), flush=True)
    return figures


def read_all(bootstrap: str, topic: str, timeout: float = 60, quiet: float = 2.0) -> list:
    """Every record of ``topic`` from offset 0, in partition order: read past the end offsets known at the start
    and on until the topic has been quiet for ``quiet`` seconds (the local broker's end offsets count record
    batches, not records, so they alone would stop too early)."""
    consumer = KafkaConsumer(bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False,
                             auto_offset_reset="earliest")
    try:
        deadline = time.monotonic() + timeout
        partitions = None
        while partitions is None and time.monotonic() < deadline:
            found = consumer.partitions_for_topic(topic)
            partitions = [TopicPartition(topic, p) for p in sorted(found)] if found else None
            if partitions is None:
                time.sleep(0.2)
        if not partitions:
            return []
        consumer.assign(partitions)
        consumer.seek_to_beginning(*partitions)
        ends = consumer.end_offsets(partitions)
        records, last_record = [], time.monotonic()
        while (any(consumer.position(tp) < ends[tp] for tp in partitions)
               or time.monotonic() - last_record < quiet):
            if time.monotonic() > deadline:
                raise AssertionError(f"reading {topic} did not come to its end within {timeout:g}s")
            for batch in consumer.poll(timeout_ms=200).values():
                if batch:
                    records.extend(batch)
                    last_record = time.monotonic()
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        consumer.close()


def header(record, name: str) -> str | None:
    for key, value in record.headers or ():
        if key == name:
            return value.decode()
    return None


def event_ids(records) -> list[str]:
    return [header(r, "ce_id") for r in records]


def tally(sent_ids, received_ids) -> tuple[int, int, int]:
    """(distinct received, duplicates, lost) of ``received_ids`` against the ids that were ``sent``."""
    counts = Counter(received_ids)
    distinct = set(counts) & set(sent_ids)
    duplicates = sum(n - 1 for n in counts.values() if n > 1)
    return len(distinct), duplicates, len(set(sent_ids) - distinct)
