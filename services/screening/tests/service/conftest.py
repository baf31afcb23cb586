import pytest

from tests.support.platform import running


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """Screening with its relay; each module gets its own databases and topics."""
    with running(infra, otlp, "s", {"screening": {}}, relays=("screening",), gateway=False) as platform:
        yield platform
