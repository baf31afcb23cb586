import pytest

from services.ad_triage.tests.service.helpers import producers_env
from tests.support.platform import running


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """Ad triage with its relay and the gateway, scoring with rule set 1.0.0 until a test publishes another."""
    with running(infra, otlp, "a", {"ad_triage": {"AD_TRIAGE_RULESET_VERSION": "1.0.0", **producers_env()}},
                 relays=("ad_triage",)) as platform:
        yield platform


@pytest.fixture(scope="module")
def db(platform):
    from pymongo import MongoClient
    client = MongoClient(platform.env["MONGO_URI"], tz_aware=True)
    yield client[platform.settings("ad_triage").database]
    client.close()
