"""Nameko RPC from the gateway's event loop: a pool of standalone cluster proxies used from worker threads.

A standalone proxy is not thread-safe, so each call checks one out; a proxy that timed out or lost its broker
connection is discarded because its reply queue may still receive the late answer. The caller's trace context, its
deadline and its principal ride in nameko's context data, which nameko sends as AMQP headers; the request message
also expires in the broker when the deadline passes (kit.nameko_kit explains the deadline and its clock tolerance).
The principal is sealed with PRINCIPAL_KEY (kit.principal) and expires with the deadline, so a service can check who
asked and a process that reaches RabbitMQ without the key cannot claim anyone.

Failures are told apart by what the caller can know afterwards:

* ``ServiceUnavailable``: the request was certainly not run (no instance has ever consumed the service's queue, or
  the broker could not be reached before anything was sent);
* ``NoAnswer``: the request was (or may have been) sent but no answer came: it may or may not have run. For a
  command the client must retry with the same request id; a query can simply be asked again.
"""
from __future__ import annotations

import logging
import queue
import time

import anyio
from amqp.exceptions import AMQPError
from kombu.exceptions import KombuError
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from nameko.rpc import MethodProxy
from nameko.standalone.rpc import ClusterRpcProxy

from kit import tracing
from kit.errors import CommandRejected
from kit.nameko_kit import DEADLINE_KEY
from kit.principal import HEADER as PRINCIPAL_HEADER
from kit.principal import Principal, seal
from kit.settings import Settings

log = logging.getLogger("actionplan.gateway.rpc")

# what the broker connection can raise; the standalone proxy's reply consumer raises RuntimeError once disconnected
BROKER_ERRORS = (OSError, AMQPError, KombuError)


class ServiceUnavailable(Exception):
    """The request was not run: nothing serves it, or it could not be sent."""

    def __init__(self, service: str, why: str) -> None:
        super().__init__(f"the {service} service is unavailable ({why})")
        self.service = service


class NoAnswer(Exception):
    """The request was sent but no answer arrived (timeout or a broken connection): its outcome is unknown."""

    def __init__(self, service: str, why: str) -> None:
        super().__init__(f"no answer from the {service} service ({why})")
        self.service = service


class RpcPool:
    def __init__(self, settings: Settings) -> None:
        self._config = {"AMQP_URI": settings.amqp_uri, "serializer": "json"}
        self._timeout = settings.rpc_timeout_s
        # required: every service refuses a request without a principal sealed with this key
        self._key = settings.require("principal_key") if isinstance(settings, Settings) else \
            getattr(settings, "principal_key", None)
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._limiter = anyio.CapacityLimiter(settings.rpc_pool_size)

    def _checkout(self) -> ClusterRpcProxy:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            proxy = ClusterRpcProxy(self._config, timeout=self._timeout)
            proxy.start()
            return proxy

    def call_sync(self, service: str, method: str, kwargs: dict, carrier: dict,
                  principal: Principal | None = None) -> object:
        if principal is not None and self._key is None:
            raise RuntimeError("PRINCIPAL_KEY is not configured: the gateway cannot send its callers' principals")
        try:
            proxy = self._checkout()
        except BROKER_ERRORS as exc:  # nothing was sent
            raise ServiceUnavailable(service, f"broker connection failed: {type(exc).__name__}") from None
        reusable, sent = True, False
        try:
            data = proxy._worker_ctx.data  # nameko 2.14 keeps per-proxy context data here; it is sent as headers
            data.pop("traceparent", None)
            data.pop("tracestate", None)
            data.pop(PRINCIPAL_HEADER, None)  # a pooled proxy must never carry the previous caller's principal
            data.update(carrier)
            # the deadline is wall-clock time for the service's check; the message TTL is the broker's own count
            deadline = time.time() + self._timeout
            data[DEADLINE_KEY] = deadline
            if principal is not None:
                data[PRINCIPAL_HEADER] = seal(principal, self._key, deadline)
            target = MethodProxy(proxy._worker_ctx, service, method, proxy._reply_listener, expiration=self._timeout)
            reply = target.call_async(**kwargs)
            sent = True
            return reply.result()
        except RemoteError as exc:
            if exc.exc_type == "CommandRejected":
                raise CommandRejected.parse(exc.value) or exc from None
            if exc.exc_type in ("IncorrectSignature", "MethodNotFound"):
                raise CommandRejected("invalid_arguments", f"{service}.{method}: {exc.value}") from None
            raise
        except UnknownService:
            raise ServiceUnavailable(service, "no instance is running") from None
        except RpcTimeout:
            reusable = False
            raise NoAnswer(service, f"no answer within {self._timeout:g}s") from None
        except (*BROKER_ERRORS, RuntimeError) as exc:
            reusable = False
            if isinstance(exc, RuntimeError) and not sent:
                raise
            if not sent and _refused(exc):  # no connection to publish on: the request never left
                raise ServiceUnavailable(service, f"broker connection failed: {type(exc).__name__}") from None
            # a publish that failed half-way may still have reached the queue (its confirm is lost with the
            # connection), and a reply lost with the connection says nothing about the request: outcome unknown
            raise NoAnswer(service, f"broker connection lost: {type(exc).__name__}") from None
        finally:
            if reusable:
                self._idle.put(proxy)
            else:
                _stop_quietly(proxy)

    async def call(self, service: str, method: str, *, principal: Principal, **kwargs) -> object:
        """Call ``service.method(**kwargs)`` on behalf of ``principal`` (sealed into the request's headers)."""
        if not isinstance(principal, Principal):
            raise TypeError("RpcPool.call needs the caller's Principal (principal=...)")
        carrier = tracing.current_traceparent()
        return await anyio.to_thread.run_sync(self.call_sync, service, method, kwargs, carrier, principal,
                                              limiter=self._limiter)

    def close(self) -> None:
        while True:
            try:
                _stop_quietly(self._idle.get_nowait())
            except queue.Empty:
                return


def _refused(exc: BaseException | None) -> bool:
    """True when ``exc`` (or what caused it) is a refused TCP connection."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, ConnectionRefusedError) or "refused" in str(exc).lower():
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _stop_quietly(proxy: ClusterRpcProxy) -> None:
    try:
        proxy.stop()
    except Exception:
        log.debug("stopping an RPC proxy failed", exc_info=True)
