import pytest

from tests.support.platform import running


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """Grants with its relay and the gateway; each test module gets its own databases, topics and vhost."""
    with running(infra, otlp, "g", {"grants": {}}, relays=("grants",)) as platform:
        platform.acting_as = ("grant_officer", "ministry")  # the tests are a grant officer's work
        yield platform
