import pytest

from tests.support.platform import Platform


@pytest.fixture(scope="module")
def platform(infra, otlp):
    """The whole platform as `make run` starts it: services, relays and the gateway, in its own vhost."""
    import uuid
    platform = Platform(infra, f"e{uuid.uuid4().hex[:8]}", otlp.endpoint)
    try:
        platform.service("grants")
        platform.service("evaluation")
        platform.relay("grants")
        platform.gateway()
        yield platform
    finally:
        platform.stop()
