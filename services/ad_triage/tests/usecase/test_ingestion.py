"""Ingestion use cases: counts and events of an import, sightings, and clusters kept in storage that equal the
one-pass reference (after an aborted ingest, with a second instance, in another order)."""
from __future__ import annotations

import json
import os
from datetime import datetime, timedelta, timezone

import pytest

from kit.signing import Signer, UnverifiedEvent
from services.ad_triage.commands.rulesets import RuleSets
from services.ad_triage.commands.sources import Sources
from services.ad_triage.domain.arrivals import split_lines
from services.ad_triage.domain.events import FLAGGED, observed_data
from services.ad_triage.domain.records import RecordRejected
from services.ad_triage.storage import AdTriageStore
from tests.support.memory_store import make_store

from .conftest import (another_instance, assert_clusters_equal_reference, import_lines, lines, reference_clusters,
                       stored_clusters)


def test_an_import_reports_accepted_and_quarantined_records_and_stages_flagged_events(store):
    batch = lines(120, seed=5, malformed=6)
    report = import_lines(store, batch)
    stored = store.db.ads.count_documents({})
    assert report["accepted"] == stored > 0 and report["quarantined"] == store.db.quarantine.count_documents({}) > 0
    assert report["accepted"] + report["quarantined"] == len([line for line in batch if line.strip()])
    flagged = list(store.db.outbox.find({"type": FLAGGED}))
    assert report["flagged"] == len(flagged) > 0
    assert {row["key"] for row in flagged} <= {d["_id"] for d in store.db.ads.find({}, {"_id": 1})}
    assert all(q["raw"].startswith("enc2:") for q in store.db.quarantine.find())


def test_the_same_ad_seen_twice_adds_a_sighting_not_a_duplicate(store):
    record = json.loads(lines(1, seed=9)[0])
    import_lines(store, [json.dumps(record)], request_id="first-import")
    later = {**record, "lastSeen": "2024-01-01T00:00:00+00:00", "text": record["text"] + " New photos."}
    again = import_lines(store, [json.dumps(later)], request_id="second-import")
    replayed = import_lines(store, [json.dumps(later)], request_id="second-import")
    assert (again["updated"], replayed["unchanged"]) == (1, 1)
    docs = list(store.db.ads.find())
    assert len(docs) == 1 and len(docs[0]["sightings"]) == 2 and docs[0]["text"].endswith("New photos.")


def test_an_aborted_ingest_writes_nothing_and_the_next_one_links_from_storage(store, monkeypatch):
    first, second = lines(60, seed=1), lines(30, seed=2, id_prefix="x")
    import_lines(store, first)
    before = {name: list(store.db[name].find({})) for name in ("ads", "clusters", "links", "queue_any_any")}

    def fail(*_args):
        raise RuntimeError("injected: the transaction aborts after linking")
    monkeypatch.setattr(store, "emit_many", fail)
    with pytest.raises(RuntimeError):
        import_lines(store, second)
    monkeypatch.undo()
    assert {name: list(store.db[name].find({})) for name in before} == before
    assert_clusters_equal_reference(store, first)
    # and the service goes on: a later ingest and a rescore work on the state storage holds
    assert import_lines(store, second)["accepted"] == 30
    assert RuleSets(store).rescore(None, "lead-1", None)["rescored"] == 90
    assert_clusters_equal_reference(store, first, second)


def test_two_instances_ingesting_into_one_database_link_alike(store):
    other = another_instance(store)
    batch, extra = lines(200, seed=3), lines(20, seed=4, id_prefix="y")
    for start in range(0, 200, 25):  # interleaved, each chunk on the other instance
        import_lines(store if start % 50 else other, batch[start:start + 25])
    import_lines(store, extra)
    assert_clusters_equal_reference(store, batch, extra)
    # one instance alone, in another order, stores the same clusters
    alone = make_store(AdTriageStore, "ad_triage")
    import_lines(alone, extra)
    for start in reversed(range(0, 200, 40)):
        import_lines(alone, batch[start:start + 40])
    assert stored_clusters(alone) == stored_clusters(store)
    assert len(stored_clusters(store)) < 220  # ads did link


def _signed_observation(store, signer: Signer, event_id: str = "ev-1", seed: int = 11, **changes) -> dict:
    arrivals, _ = split_lines(lines(1, seed=seed), "jsonl", store.pseudonymise, "connector", "kafka")
    event = {"id": event_id, "type": "ad_triage.ad.observed", "subject": "s",
             "data": {**observed_data(arrivals[0].ad, arrivals[0].ad.last_seen, signer.producer), **changes}}
    event["data"]["signature"] = signer.signature(event)
    return event


@pytest.fixture
def signer():
    return Signer("crawler-1", os.urandom(32))


@pytest.fixture
def registered(signer):
    """A store whose producer registry knows crawler-1."""
    return make_store(AdTriageStore, "ad_triage", AD_TRIAGE_PRODUCERS=f"crawler-1:{signer.public_key()}")


def test_an_observation_event_is_ingested_once(registered, signer):
    event = _signed_observation(registered, signer)
    assert Sources(registered).observed(event)["accepted"] == 1
    assert Sources(registered).observed(event)["unchanged"] == 1
    assert [s["via"] for s in registered.db.ads.find_one()["sightings"]] == ["kafka"]


def test_observations_from_unregistered_producers_or_the_future_are_refused(registered, signer):
    unsigned = _signed_observation(registered, signer)
    del unsigned["data"]["signature"]
    stranger = _signed_observation(registered, Signer("crawler-9", os.urandom(32)), "ev-2")
    impostor = _signed_observation(registered, Signer("crawler-1", os.urandom(32)), "ev-3")
    tampered = _signed_observation(registered, signer, "ev-4")
    tampered["data"]["text"] += " changed after signing"
    claims_other = _signed_observation(registered, signer, "ev-5")
    claims_other["data"]["connector"] = "crawler-2"
    for event, reason in ((unsigned, "unsigned"), (stranger, "not registered"), (impostor, "does not match"),
                          (tampered, "does not match"), (claims_other, "does not match")):
        with pytest.raises(UnverifiedEvent, match=reason):
            Sources(registered).observed(event)
    future = (datetime.now(timezone.utc) + timedelta(hours=1)).isoformat()
    with pytest.raises(RecordRejected, match="lastSeen: in the future"):
        Sources(registered).observed(_signed_observation(registered, signer, "ev-6", lastSeen=future))
    assert registered.db.ads.count_documents({}) == 0


def _ad(ad_id: str, text: str, contacts: list[dict]) -> str:
    return json.dumps({"platform": "dkescort.example", "adId": ad_id, "url": f"https://dkescort.example/{ad_id}",
                       "firstSeen": "2016-05-01T10:00:00+00:00", "lastSeen": "2016-05-02T10:00:00+00:00",
                       "title": "Ny i byen", "text": text, "language": "da", "location": "Odense",
                       "contacts": contacts})


def test_a_number_only_in_the_text_links_like_the_contacts_field(store):
    field = _ad("t-1", "Sød pige, diskret og tryg. Velkommen.", [{"kind": "phone", "value": "+45 29 99 12 34"}])
    spoken = _ad("t-2", "Helt ny profil. Ring to ni ni ni en to tre fire efter kl 12.", [])
    elsewhere = _ad("t-3", "Helt anden annonce uden nummer, men med en pris: 1500 kr.", [])
    import_lines(store, [field])
    import_lines(store, [elsewhere, spoken])
    ads = {d["_id"]: d for d in store.db.ads.find({})}
    first, second, third = (ads[f"dkescort.example/t-{n}"] for n in (1, 2, 3))
    assert first["cluster_id"] == second["cluster_id"] != third["cluster_id"]
    assert [(c["source"], c["obfuscated"]) for c in second["contacts"]] == [("text", True)]
    assert second["contacts"][0]["pseudonym"] == first["contacts"][0]["pseudonym"]
    assert third["contacts"] == [] and "29991234" not in json.dumps(second, default=str)
    assert store.db.clusters.find_one({"_id": first["cluster_id"]})["ad_count"] == 2


def test_ads_stored_before_signature_documents_existed_still_link_by_their_text(store):
    text = ("Dejlig pige i byen. Jeg er slank, sød og smilende. Kom og nyd en skøn time med mig. Ny i byen, kun her "
            "få dage. Kun seriøse henvendelser. Åben fra 10 til 22.")
    batch = lines(120, seed=3)
    import_lines(store, batch[:60] + [_ad("s-1", text, [])])
    store.db.signatures.delete_many({})  # as an earlier release stored them: the signature on the ad alone
    import_lines(store, batch[60:] + [_ad("s-2", text + " Kys", [])])
    clusters = store.all_clusters()
    assert clusters == reference_clusters(store, batch + [_ad("s-1", text, []), _ad("s-2", text + " Kys", [])])
    assert any({"dkescort.example/s-1", "dkescort.example/s-2"} <= set(m) for m in clusters.values())
