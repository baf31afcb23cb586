"""`make bench` runs on the real stack at a small size: each figure is a positive number beside its baseline. (It
once reported 29,000 ads/s because every import was refused as unauthenticated and nothing said so.) Timings are
not asserted here: the figures belong to `make bench`."""
from __future__ import annotations

import json

import pytest

import bench.__main__ as bench_main

pytestmark = pytest.mark.stack


def test_the_delivery_and_ad_triage_benchmarks_complete_and_report_every_figure(tmp_path, monkeypatch):
    results = tmp_path / "results.json"
    monkeypatch.setattr(bench_main, "RESULTS", results)
    assert bench_main.main(["--only", "delivery", "--events", "60"]) == 0
    delivery = json.loads(results.read_text())
    assert bench_main.main(["--only", "ad_triage", "--ads", "200", "--chunk", "100"]) == 0
    triage = json.loads(results.read_text())
    names = [e["name"] for e in delivery + triage]
    assert names == ["kit.relay_outbox_to_broker", "kit.consumer_exactly_once", "ad_triage.ingest_to_flagged_event",
                     "ad_triage.service_rss_after_ingest", "ad_triage.domain_pipeline_in_process"]
    for entry in delivery + triage:
        assert entry["figure"] > 0, entry
        assert entry["baseline"] is None or entry["baseline"] > 0
