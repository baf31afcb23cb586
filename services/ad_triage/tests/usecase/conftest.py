"""Use-case tests: the real AdTriageStore on an in-memory MongoDB (mongomock, all-or-nothing transactions)."""
from __future__ import annotations

import io

import pytest

from kit.outbox import Outbox
from services.ad_triage.commands.sources import Sources
from services.ad_triage.storage import AdTriageStore
from services.ad_triage.tools.generate_ads import generate, write_jsonl
from tests.support.memory_store import in_memory, make_store


@pytest.fixture
def store():
    return make_store(AdTriageStore, "ad_triage")


def another_instance(store: AdTriageStore) -> AdTriageStore:
    """A second process of the service on the same database: its own store, its own linking network."""
    other = in_memory(AdTriageStore)(store.client, store.db, Outbox(store.db, store.settings), store.settings)
    other.setup()
    return other


def lines(count: int, seed: int, id_prefix: str = "", malformed: int = 0) -> list[str]:
    records = generate(count, seed, malformed)
    for record in records:
        if record is not None and "adId" in record:
            record["adId"] = id_prefix + record["adId"]
    out = io.StringIO()
    write_jsonl(records, out)
    return out.getvalue().splitlines()


def import_lines(store, batch: list[str], request_id: str | None = None) -> dict:
    return Sources(store).import_batch(batch, "jsonl", "importer-1", request_id, 1, "import")


def assert_linking_equals_storage(store) -> None:
    """The store's network, caught up as its next transaction would be, equals a rebuild from the stored ads."""
    state, rebuilt = store.linking_state(), store.rebuilt_network()
    assert (state["digest"], state["ads_linked"]) == (rebuilt.digest(), store.db.ads.count_documents({}))
    assert store.replica.network.all_clusters() == rebuilt.all_clusters()
