"""Nameko RPC from the gateway's event loop: a pool of standalone cluster proxies used from worker threads.

A standalone proxy is not thread-safe, so each call checks one out; a proxy that timed out is discarded because
its reply queue may still receive the late answer. The caller's trace context rides in nameko's context data,
which nameko sends as AMQP headers.
"""
from __future__ import annotations

import logging
import queue

import anyio
from nameko.exceptions import RemoteError, RpcTimeout, UnknownService
from nameko.standalone.rpc import ClusterRpcProxy

from kit import tracing
from kit.errors import CommandRejected
from kit.settings import Settings

log = logging.getLogger("actionplan.gateway.rpc")


class ServiceUnavailable(Exception):
    def __init__(self, service: str, why: str) -> None:
        super().__init__(f"the {service} service is unavailable ({why})")
        self.service = service


class RpcPool:
    def __init__(self, settings: Settings) -> None:
        self._config = {"AMQP_URI": settings.amqp_uri, "serializer": "json"}
        self._timeout = settings.rpc_timeout_s
        self._idle: queue.LifoQueue = queue.LifoQueue()
        self._limiter = anyio.CapacityLimiter(settings.rpc_pool_size)

    def _checkout(self) -> ClusterRpcProxy:
        try:
            return self._idle.get_nowait()
        except queue.Empty:
            proxy = ClusterRpcProxy(self._config, timeout=self._timeout)
            proxy.start()
            return proxy

    def call_sync(self, service: str, method: str, kwargs: dict, carrier: dict) -> object:
        proxy = self._checkout()
        reusable = True
        try:
            data = proxy._worker_ctx.data  # nameko 2.14 keeps per-proxy context data here; it is sent as headers
            data.pop("traceparent", None)
            data.pop("tracestate", None)
            data.update(carrier)
            return getattr(getattr(proxy._proxy, service), method)(**kwargs)
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
            raise ServiceUnavailable(service, f"no answer within {self._timeout:g}s") from None
        except (OSError, ConnectionError) as exc:
            reusable = False
            raise ServiceUnavailable(service, f"broker connection failed: {type(exc).__name__}") from None
        finally:
            if reusable:
                self._idle.put(proxy)
            else:
                _stop_quietly(proxy)

    async def call(self, service: str, method: str, **kwargs) -> object:
        carrier = tracing.current_traceparent()
        return await anyio.to_thread.run_sync(self.call_sync, service, method, kwargs, carrier,
                                              limiter=self._limiter)

    def close(self) -> None:
        while True:
            try:
                _stop_quietly(self._idle.get_nowait())
            except queue.Empty:
                return


def _stop_quietly(proxy: ClusterRpcProxy) -> None:
    try:
        proxy.stop()
    except Exception:
        log.debug("stopping an RPC proxy failed", exc_info=True)
