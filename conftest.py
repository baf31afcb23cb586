"""Session fixtures shared by every tier: the local stack starts once, on free ports, only if a test needs it."""
from __future__ import annotations

import os
import shutil
import uuid
import tempfile
from pathlib import Path

import pytest

from tests.support.otlp_receiver import OtlpReceiver


@pytest.fixture(scope="session")
def infra():
    from tests.support.platform import start_infrastructure
    workdir = Path(tempfile.mkdtemp(prefix="actionplan-test-"))
    stack = start_infrastructure(workdir)
    yield stack
    stack.stop()
    if not os.environ.get("KEEP_TEST_LOGS"):
        shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="session")
def otlp():
    receiver = OtlpReceiver()
    yield receiver
    receiver.close()


@pytest.fixture
def make_platform(infra, otlp, request):
    """Start an isolated platform (own vhost, databases and topics) for one test; stopped after it."""
    from tests.support.platform import Platform
    made = []

    def make(name: str | None = None):
        platform = Platform(infra, name or f"t{uuid.uuid4().hex[:10]}", otlp.endpoint)
        made.append(platform)
        return platform
    yield make
    for platform in made:
        platform.stop()


@pytest.fixture(autouse=True)
def _no_eventlet_in_the_test_process():
    """Services run on eventlet in their own processes; a test that imports kit.runner monkey-patches the test
    process itself, and later stack tests then hang on green sockets. Fail the test that did it."""
    yield
    import sys
    patcher = sys.modules.get("eventlet.patcher")
    if patcher is not None and patcher.is_monkey_patched("socket"):
        pytest.fail("this test monkey-patched the test process for eventlet (it imported kit.runner?)")
