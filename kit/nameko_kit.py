"""Nameko glue shared by every service: settings, Mongo storage, tracing, commands (the Kafka consumer entrypoint
is in kit.consumer).

Kept at the edge so domain code never sees nameko.
"""
from __future__ import annotations

import logging

from nameko.extensions import DependencyProvider
from nameko.rpc import rpc
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from kit import tracing
from kit.errors import CommandRejected, translate_errors
from kit.mongo import connect
from kit.outbox import Outbox, ensure_indexes
from kit.settings import Settings

log = logging.getLogger("actionplan.service")
SETTINGS_KEY = "ACTIONPLAN_SETTINGS"


def settings_of(container) -> Settings:
    return container.config[SETTINGS_KEY]


def command(method):
    """An RPC entrypoint whose domain errors reach the caller as CommandRejected (expected, so not logged as
    failures of the service)."""
    return rpc(expected_exceptions=CommandRejected)(translate_errors(method))


class HealthCheck:
    """Mixed into every service: the gateway's readiness probe calls it over RPC."""

    @rpc
    def health(self) -> dict:
        self.store.ping()
        return {"service": self.name, "status": "ok"}


class Store(DependencyProvider):
    """Gives each worker the service's storage adapter: ``store_class(client, db, outbox, settings)``.

    One MongoClient per container; PyMongo pools connections and is safe across green threads.
    """

    def __init__(self, store_class) -> None:
        self.store_class = store_class

    def setup(self) -> None:
        settings = settings_of(self.container)
        self.client = connect(settings)
        self.db = self.client[settings.database]
        ensure_indexes(self.db)
        self.store = self.store_class(self.client, self.db, Outbox(self.db, settings), settings)
        if hasattr(self.store, "setup"):
            self.store.setup()

    def stop(self) -> None:
        self.client.close()

    def get_dependency(self, worker_ctx):
        return self.store


class Tracing(DependencyProvider):
    """A span per worker, continuing the caller's trace from the AMQP headers or the Kafka record."""

    def setup(self) -> None:
        self._spans = {}

    def worker_setup(self, worker_ctx) -> None:
        entry = worker_ctx.entrypoint
        kind = SpanKind.CONSUMER if getattr(entry, "is_kafka_consumer", False) else SpanKind.SERVER
        name = f"{worker_ctx.service_name}.{entry.method_name}"
        token = otel_context.attach(tracing.context_from(worker_ctx.data))
        span = tracing.tracer().start_span(name, kind=kind, attributes={"rpc.system": "nameko",
                                                                          "rpc.method": entry.method_name})
        span_token = otel_context.attach(trace.set_span_in_context(span))
        self._spans[worker_ctx] = (span, token, span_token)

    def worker_result(self, worker_ctx, result=None, exc_info=None) -> None:
        entry = self._spans.get(worker_ctx)
        if entry and exc_info:
            entry[0].set_status(Status(StatusCode.ERROR, type(exc_info[1]).__name__))

    def worker_teardown(self, worker_ctx) -> None:
        span, token, span_token = self._spans.pop(worker_ctx, (None, None, None))
        if span is not None:
            span.end()
            otel_context.detach(span_token)
            otel_context.detach(token)
