"""One log format for every process: JSON lines with the trace id, so logs join traces without personal data.

Log calls pass ids and counts, never payloads; personal identifiers are pseudonymised before they reach any code
that logs.
"""
from __future__ import annotations

import json
import logging
import os
import sys

from opentelemetry import trace


class JsonFormatter(logging.Formatter):
    def __init__(self, process_name: str) -> None:
        super().__init__()
        self.process_name = process_name

    def format(self, record: logging.LogRecord) -> str:
        entry = {"time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S"), "level": record.levelname,
                 "process": self.process_name, "logger": record.name, "message": record.getMessage()}
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            entry["trace_id"] = format(span.trace_id, "032x")
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure(process_name: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter(process_name))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO"))
    for noisy in ("kafka", "kombu", "amqp", "nameko", "pymongo"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
