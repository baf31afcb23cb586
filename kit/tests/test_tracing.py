"""Trace context crosses processes only through carriers: AMQP context data, outbox rows, Kafka headers."""
import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from kit import tracing


@pytest.fixture(scope="module")
def exporter():
    memory = InMemorySpanExporter()
    provider = tracing.setup("unit-test")
    provider.add_span_processor(SimpleSpanProcessor(memory))
    return memory


def test_a_trace_survives_kafka_headers(exporter):
    with tracing.tracer().start_as_current_span("gateway request") as root:
        carrier = tracing.current_traceparent()
    headers = tracing.kafka_headers(carrier) + [("ce_id", b"abc")]
    with tracing.span_from(tracing.from_kafka_headers(headers), "consume", trace.SpanKind.CONSUMER):
        pass
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["consume"].context.trace_id == root.get_span_context().trace_id
    assert spans["consume"].parent.span_id == root.get_span_context().span_id


def test_no_carrier_starts_a_new_trace(exporter):
    with tracing.span_from(None, "orphan"):
        pass
    with tracing.span_from({"traceparent": "garbage"}, "orphan-2"):
        pass
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["orphan"].parent is None and spans["orphan-2"].parent is None


def test_setup_happens_once_per_process():
    assert tracing.setup("another-name") is tracing.setup("unit-test")
