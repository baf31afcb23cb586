"""GraphiQL works offline in a real browser: headless Chromium opens the gateway's page, which loads every file from
the gateway (no other host is ever asked) under its Content-Security-Policy, runs a query and renders its result.

Chromium is driven over the Chrome DevTools Protocol with the websockets client: navigate, wait for GraphiQL, click
"execute", read the result pane. Chromium is Debian's package (`.ci/run` installs it); the test is skipped where it
is missing.
"""
from __future__ import annotations

import itertools
import json
import shutil
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from websockets.sync.client import connect

from gateway import graphiql
from tests.support.platform import running

pytestmark = pytest.mark.stack

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run", "--remote-debugging-port=0",
         "--remote-allow-origins=*"]


@pytest.fixture(scope="module")
def platform(infra, otlp):
    with running(infra, otlp, "gq", {"grants": {}}) as platform:
        yield platform


class DevTools:
    """A minimal CDP client: commands by id, events kept for inspection."""

    def __init__(self, url: str) -> None:
        self.ws = connect(url, max_size=None, open_timeout=20)
        self.ids = itertools.count(1)
        self.events: list[dict] = []

    def send(self, method: str, **params) -> dict:
        ident = next(self.ids)
        self.ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        while True:
            message = json.loads(self.ws.recv(timeout=30))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
            self.events.append(message)

    def evaluate(self, expression: str):
        result = self.send("Runtime.evaluate", expression=expression, returnByValue=True)
        return result.get("result", {}).get("value")

    def wait_for(self, expression: str, timeout: float, what: str):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; page text: "
                             f"{self.evaluate('document.body && document.body.innerText.slice(0, 500)')!r}; "
                             f"console: {self.console()}")

    def console(self) -> list[str]:
        found = []
        for event in self.events:
            if event.get("method") == "Runtime.consoleAPICalled":
                found.append(" ".join(str(a.get("value", a.get("description", ""))) for a in event["params"]["args"]))
            elif event.get("method") == "Log.entryAdded":
                found.append(f"{event['params']['entry']['source']}: {event['params']['entry']['text']}")
            elif event.get("method") == "Runtime.exceptionThrown":
                found.append(f"exception: {event['params']['exceptionDetails'].get('text')}")
        return found

    def close(self) -> None:
        self.ws.close()


@pytest.fixture
def browser():
    if CHROMIUM is None:
        pytest.skip("chromium is not installed (apt-get install chromium; .ci/run does)")
    profile = Path(tempfile.mkdtemp(prefix="actionplan-chromium-"))
    proc = subprocess.Popen([CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 30
        while not (port_file.exists() and port_file.read_text().strip()) and time.monotonic() < deadline:
            assert proc.poll() is None, "chromium exited"
            time.sleep(0.1)
        port = int(port_file.read_text().split()[0])
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=10) as answer:
            page = next(t for t in json.loads(answer.read()) if t["type"] == "page")
        tools = DevTools(page["webSocketDebuggerUrl"])
        yield tools
        tools.close()
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(profile, ignore_errors=True)


def test_graphiql_runs_a_query_offline_in_headless_chromium(platform, browser):
    assert not graphiql.missing(), "GraphiQL's files are not installed: run make setup"
    title = platform.graphql("{ actionPlan { title } }")["data"]["actionPlan"]["title"]
    origin = f"http://127.0.0.1:{platform.gateway_port}"
    for domain in ("Page", "Runtime", "Log", "Network"):
        browser.send(f"{domain}.enable")
    query = "{ actionPlan { title initiatives { number } } }"
    browser.send("Page.navigate", url=f"{origin}/graphql?query={urllib.parse.quote(query)}")

    browser.wait_for("!!document.querySelector('.graphiql-execute-button')", 30, "GraphiQL to render")
    started = time.perf_counter()
    browser.evaluate("document.querySelector('.graphiql-execute-button').click()")
    rendered = browser.wait_for(
        "(document.querySelector('.result-window') || {}).innerText || ''", 30, "the result pane")
    deadline = time.monotonic() + 30
    while title not in rendered and time.monotonic() < deadline:
        time.sleep(0.2)
        rendered = browser.evaluate("(document.querySelector('.result-window') || {}).innerText || ''")
    print(f"\nGraphiQL in headless Chromium: the query's result rendered in {time.perf_counter() - started:.2f} s")
    assert title in rendered and '"initiatives"' in rendered, rendered

    requested = [e["params"]["request"]["url"] for e in browser.events
                 if e.get("method") == "Network.requestWillBeSent"]
    assert requested and all(url.startswith(origin) or url.startswith("data:") for url in requested), requested
    assert any(url.startswith(f"{origin}/graphiql/graphiql.min.js") for url in requested)
    violations = [line for line in browser.console() if "Content Security Policy" in line or "Refused" in line]
    assert not violations, violations
