import uuid

import pytest

from tests.support.platform import Platform


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """Grants with its relay and the gateway; each test module gets its own databases, topics and vhost."""
    platform = Platform(infra, f"g{uuid.uuid4().hex[:8]}", otlp.endpoint)
    try:
        platform.service("grants")
        platform.relay("grants")
        platform.gateway()
        yield platform
    finally:
        platform.stop()
