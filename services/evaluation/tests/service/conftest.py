import pytest

from tests.support.platform import running


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """Evaluation alone on the real stack: the tests publish the facts it consumes."""
    with running(infra, otlp, "ev", {"evaluation": {}}, gateway=False) as platform:
        yield platform
