"""``make run``: start the whole platform on the embedded local stack and keep it running until Ctrl-C/SIGTERM.

Set KAFKA_BOOTSTRAP_SERVERS, MONGO_URI or AMQP_URI to use real infrastructure instead of the embedded parts.
"""
from __future__ import annotations

import base64
import importlib
import json
import os
import secrets
import signal
import sys
import time
import urllib.request
from pathlib import Path

from deploy.local.issuer import LocalIssuer
from deploy.local.stack import ROOT, Stack, StackError
from kit.settings import LOCAL_KAFKA_PORT, LOCAL_MONGO_PORT

WORKDIR = Path(os.environ.get("ACTIONPLAN_LOCAL_DIR", ROOT / ".local"))
SECRETS = ("PSEUDONYM_KEY", "NOTES_ENCRYPTION_KEY", "PRINCIPAL_KEY", "CONNECTOR_SIGNING_KEY")
LOCAL_PRODUCERS = ("crawler-1", "crawler-2")


def services() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "services").glob("*/service.py"))


def producers(names: list[str]) -> list[str]:
    return [n for n in names if importlib.import_module(f"services.{n}.contracts").PRODUCES]


def local_secrets(env: dict[str, str]) -> None:
    """Development keys live in a file of their own (mode 0600), never in a database or the repository."""
    path = WORKDIR / "secrets.env"
    stored: dict[str, str] = {}
    if path.exists():
        stored = dict(line.split("=", 1) for line in path.read_text().split() if "=" in line)
    for name in SECRETS:
        if not env.get(name):
            stored.setdefault(name, base64.b64encode(secrets.token_bytes(32)).decode())
            env[name] = stored[name]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{k}={v}\n" for k, v in stored.items()))
    path.chmod(0o600)


def local_producers(env: dict[str, str]) -> None:
    """The crawler connector signs its observations with CONNECTOR_SIGNING_KEY (in .local/secrets.env); ad triage
    accepts them from the producer names registered here (`--name crawler-1`, as the README shows)."""
    if env.get("AD_TRIAGE_PRODUCERS"):
        return
    from kit.signing import public_key_of
    public = public_key_of(base64.b64decode(env["CONNECTOR_SIGNING_KEY"]))
    env["AD_TRIAGE_PRODUCERS"] = ",".join(f"{name}:{public}" for name in LOCAL_PRODUCERS)


def local_issuer(env: dict[str, str]) -> None:
    """Unless OIDC_ISSUER points at a real provider, the gateway trusts the embedded issuer in .local/issuer/ (its
    key is generated on first use; `make token ROLE=… ORG=…` signs with it)."""
    if env.get("OIDC_ISSUER"):
        return
    env.update(LocalIssuer(WORKDIR / "issuer").env())


def wait_ready(url: str, stack: Stack, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        for proc in stack.procs:
            if not proc.alive():
                raise StackError(f"{proc.name} exited with code {proc.popen.returncode}; see {proc.log_path}")
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                if response.status == 200:
                    return
        except urllib.error.HTTPError as exc:
            last = exc.read().decode(errors="replace")
        except OSError as exc:
            last = str(exc)
        time.sleep(0.5)
    raise StackError(f"the platform was not ready within {timeout:g}s: {last}")


def stop_with_parent() -> None:
    """`make run` is this process's parent: if make is killed, stop the platform too instead of orphaning it."""
    try:
        import ctypes
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass  # not Linux: Ctrl-C still reaches the whole process group


def main() -> int:
    stop_with_parent()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    local_secrets(env)
    local_producers(env)
    local_issuer(env)
    stack = Stack(WORKDIR, env)
    stopping = {"now": False}

    def on_signal(signum, _frame):
        stopping["now"] = True
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        if not os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            stack.start_kafka(int(os.environ.get("LOCAL_KAFKA_PORT", LOCAL_KAFKA_PORT)), WORKDIR / "kafka")
            stack.start_partner_listener(int(os.environ.get("LOCAL_KAFKA_PARTNER_PORT", LOCAL_KAFKA_PORT + 1)))
        if not os.environ.get("MONGO_URI"):
            stack.start_mongo(int(os.environ.get("LOCAL_MONGO_PORT", LOCAL_MONGO_PORT)), WORKDIR / "mongo")
        if not os.environ.get("AMQP_URI"):
            stack.ensure_rabbitmq()
        names = services()
        for name in names:
            stack.start_service(name)
        for name in producers(names):
            stack.start_relay(name)
        port = int(os.environ.get("GATEWAY_PORT", "8000"))
        stack.start_gateway(port)
        print(f"waiting for {', '.join(names)} and the gateway to be ready...", flush=True)
        wait_ready(f"http://127.0.0.1:{port}/readyz", stack)
        print(json.dumps({"kafka": stack.env.get("KAFKA_BOOTSTRAP_SERVERS"),
                          "kafka_for_partners": stack.env.get("KAFKA_PARTNER_BOOTSTRAP_SERVERS"),
                          "mongo": stack.env.get("MONGO_URI"),
                          "logs": str(WORKDIR / "logs")}), flush=True)
        print(f"\nactionplan is ready. GraphiQL: http://127.0.0.1:{port}/graphql  (Ctrl-C stops everything)\n",
              flush=True)
        if env.get("OIDC_ISSUER", "").startswith("urn:actionplan:local"):
            print("a bearer token for it: make token ROLE=grant_officer ORG=ministry   (header Authorization: Bearer "
                  "<token>)\n", flush=True)
        while not stopping["now"]:
            for proc in stack.procs:
                if not proc.alive():
                    print(f"warning: {proc.name} exited with code {proc.popen.returncode}; see {proc.log_path}",
                          flush=True)
                    stack.procs.remove(proc)
                    break
            time.sleep(0.5)
        return 0
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    finally:
        print("stopping...", flush=True)
        stack.stop()
        print("stopped.", flush=True)


if __name__ == "__main__":
    sys.exit(main())
