"""How a service writes its log: uvicorn's text lines by default, or with GOVIT_LOG_FORMAT=json one
JSON object per line (python-json-logger) carrying the service and, inside a request or an
event's handling, the trace and span ids of the current trace context, so that a log line leads to
its trace and the events it caused."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import Any

from opentelemetry import trace
from pythonjsonlogger.json import JsonFormatter

FIELDS = ("time", "level", "logger", "message", "service", "trace_id", "span_id")


class TraceJsonFormatter(JsonFormatter):
    """A record as JSON: its instant in UTC (ISO 8601), level, logger, message, the service, the
    current trace and span ids (hex, absent outside a trace), and the exception's text if any."""

    def __init__(self, *args: Any, service: str = "", **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.service = service

    def add_fields(
        self, log_data: dict[str, Any], record: logging.LogRecord, message: dict[str, Any]
    ) -> None:
        super().add_fields(log_data, record, message)
        log_data["time"] = datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds")
        log_data["level"] = record.levelname
        log_data["logger"] = record.name
        log_data["service"] = self.service
        span = trace.get_current_span().get_span_context()
        if span.is_valid:
            log_data["trace_id"] = trace.format_trace_id(span.trace_id)
            log_data["span_id"] = trace.format_span_id(span.span_id)


def uvicorn_config(service: str, level: str, fmt: str) -> dict[str, Any] | None:
    """uvicorn's log_config: None keeps uvicorn's own (text); "json" sends every logger (the
    suite's, uvicorn's server and access logs) through one JSON handler on stderr."""
    if fmt != "json":
        return None
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "json": {"()": TraceJsonFormatter, "service": service, "reserved_attrs": _reserved()},
        },
        "handlers": {
            "json": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}
        },
        "root": {"handlers": ["json"], "level": level.upper()},
        "loggers": {
            name: {"handlers": [], "level": level.upper(), "propagate": True}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }


def _reserved() -> list[str]:
    """The LogRecord attributes left out of the object (python-json-logger's list, and the ones
    whose content is already in a field of ours)."""
    from pythonjsonlogger.core import RESERVED_ATTRS

    return [*RESERVED_ATTRS, "color_message"]
