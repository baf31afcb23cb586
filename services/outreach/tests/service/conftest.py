import pytest

from tests.support.platform import running


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """Outreach with its relay, and grants for the funding check; each module gets its own databases and topics."""
    with running(infra, otlp, "o", {"grants": {}, "outreach": {}}, relays=("outreach",), gateway=False) as platform:
        yield platform
