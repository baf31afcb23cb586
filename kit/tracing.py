"""OpenTelemetry set-up, once per process, and trace-context carriers for AMQP, the outbox and Kafka.

The exporter is chosen by configuration (``TRACE_EXPORTER``: none, console or otlp; OTLP reads the standard
``OTEL_EXPORTER_OTLP_*`` variables). Tests install an in-memory exporter instead. Span attributes carry ids of
aggregates and events, never personal data.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.propagate import extract, inject
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

_lock = threading.Lock()
_provider: TracerProvider | None = None


def setup(service_name: str, exporter: str = "none", span_exporter: SpanExporter | None = None) -> TracerProvider:
    """Install the process's tracer provider; later calls return the first one (set-up happens once)."""
    global _provider
    with _lock:
        if _provider is not None:
            return _provider
        provider = TracerProvider(resource=Resource.create({"service.name": f"actionplan-{service_name}"}))
        if span_exporter is None and exporter == "otlp":
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
            span_exporter = OTLPSpanExporter()
        elif span_exporter is None and exporter == "console":
            span_exporter = ConsoleSpanExporter()
        if span_exporter is not None:
            provider.add_span_processor(BatchSpanProcessor(span_exporter))
        trace.set_tracer_provider(provider)
        _provider = provider
        return provider


def shutdown() -> None:
    if _provider is not None:
        _provider.shutdown()


def tracer(name: str = "actionplan"):
    return trace.get_tracer(name)


def current_traceparent() -> dict[str, str]:
    """The current context as W3C headers ({'traceparent': ..., maybe 'tracestate': ...})."""
    carrier: dict[str, str] = {}
    inject(carrier)
    return carrier


def context_from(carrier: dict | None):
    return extract({k: v for k, v in (carrier or {}).items() if k in ("traceparent", "tracestate") and v})


def kafka_headers(carrier: dict[str, str]) -> list[tuple[str, bytes]]:
    return [(k, v.encode("ascii")) for k, v in carrier.items()]


def from_kafka_headers(headers) -> dict[str, str]:
    return {k: v.decode("ascii", "replace") for k, v in (headers or ()) if k in ("traceparent", "tracestate") and v}


@contextmanager
def span_from(carrier: dict | None, name: str, kind=trace.SpanKind.INTERNAL, attributes: dict | None = None):
    """Start a span whose parent is the context in ``carrier`` and make it current for the block."""
    token = otel_context.attach(context_from(carrier))
    try:
        with tracer().start_as_current_span(name, kind=kind, attributes=attributes or {}) as span:
            yield span
    finally:
        otel_context.detach(token)
