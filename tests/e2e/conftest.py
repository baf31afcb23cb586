import pytest

from tests.support.platform import running


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """The whole platform as `make run` starts it: services, relays and the gateway, in its own vhost."""
    with running(infra, otlp, "e", {"grants": {}, "evaluation": {}}, relays=("grants",)) as platform:
        platform.acting_as = ("grant_officer", "ministry")  # a ministry grant officer unless a test says otherwise
        yield platform
