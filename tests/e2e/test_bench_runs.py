"""`make bench` runs on the real stack at a small size: each figure is a positive number beside its baseline. (It
once reported 29,000 ads/s because every import was refused as unauthenticated and nothing said so.) Timings are
not asserted here: the figures belong to `make bench`."""
from __future__ import annotations

import json

import pytest

import bench.__main__ as bench_main
from bench import ad_triage

pytestmark = pytest.mark.stack

ADS, READERS = 600, (1, 4)  # the queue is measured at 60 and at 600 ads


def check_entries(entries: list[dict]) -> None:
    for entry in entries:
        assert set(entry) == {"name", "figure", "unit", "baseline", "ratio"}, entry
        assert isinstance(entry["figure"], (int, float)) and entry["figure"] > 0, entry
        assert isinstance(entry["unit"], str) and entry["unit"], entry
        assert entry["baseline"] is None or entry["baseline"] > 0, entry
        assert (entry["ratio"] is None) == (entry["baseline"] is None), entry
        assert entry["ratio"] is None or entry["ratio"] > 0, entry


def test_the_delivery_benchmark_completes_and_reports_every_figure(tmp_path, monkeypatch):
    results = tmp_path / "results.json"
    monkeypatch.setattr(bench_main, "RESULTS", results)
    assert bench_main.main(["--only", "delivery", "--events", "60"]) == 0
    delivery = json.loads(results.read_text())
    assert [e["name"] for e in delivery] == ["kit.relay_outbox_to_broker", "kit.consumer_exactly_once"]
    check_entries(delivery)


def test_the_ad_triage_benchmark_completes_and_reports_every_figure(tmp_path, monkeypatch):
    results = tmp_path / "results.json"
    monkeypatch.setattr(bench_main, "RESULTS", results)
    assert bench_main.main(["--only", "ad_triage", "--ads", str(ADS), "--chunk", "200",
                            "--readers", ",".join(map(str, READERS)), "--calls", "8"]) == 0
    triage = json.loads(results.read_text())
    names = [e["name"] for e in triage]
    assert names == ad_triage.entry_names(ADS, READERS)
    assert names[:3] == ["ad_triage.ingest_to_flagged_event", "ad_triage.queue_page_p50_60_ads_1_readers",
                         "ad_triage.queue_page_p99_60_ads_1_readers"]
    assert {"ad_triage.queue_page_p99_600_ads_4_readers", "ad_triage.queue_rpc_p99_600_ads_4_readers"} <= set(names)
    check_entries(triage)
    by_name = {e["name"]: e for e in triage}
    for name in names:
        if name.startswith(("ad_triage.queue_page_", "ad_triage.queue_rpc_")):  # beside /healthz, the health RPC
            assert by_name[name]["unit"] == "ms" and by_name[name]["baseline"] is not None, by_name[name]
    assert by_name["ad_triage.ingest_to_flagged_event"]["baseline"] is not None  # raw produce+consume
    assert by_name["ad_triage.service_rss_after_ingest"]["unit"] == "MiB"
    assert by_name["ad_triage.rescore_all_ads"]["unit"] == "ads/s"


def test_the_ingest_phases_tool_times_every_stage_on_a_real_server(capsys):
    from bench import ingest_phases
    assert ingest_phases.main(["--ads", "300", "--chunk", "100", "--every", "150"]) == 0
    out = capsys.readouterr().out
    stages = [line for line in out.splitlines() if line.startswith("ads ")]
    assert [line.split(":")[0] for line in stages] == ["ads 1 to 200", "ads 201 to 300"]  # whole chunks
    assert all(float(line.split(": ")[1].split(" ads/s")[0].replace(",", "")) > 0 for line in stages)
    for phase in ("ingest", "parse", "write_clusters", "bulk write: ads", "bulk write: queue rows", "candidates"):
        assert f"  {phase} " in out, phase
