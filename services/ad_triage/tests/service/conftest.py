import uuid

import pytest

from tests.support.platform import Platform


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """Ad triage with its relay and the gateway, scoring with rule set 1.0.0 until a test publishes another."""
    platform = Platform(infra, f"a{uuid.uuid4().hex[:8]}", otlp.endpoint)
    try:
        platform.service("ad_triage", AD_TRIAGE_RULESET_VERSION="1.0.0")
        platform.relay("ad_triage")
        platform.gateway()
        yield platform
    finally:
        platform.stop()


@pytest.fixture(scope="module")
def db(platform):
    from pymongo import MongoClient
    client = MongoClient(platform.env["MONGO_URI"], tz_aware=True)
    yield client[platform.settings("ad_triage").database]
    client.close()
