"""OpenTelemetry set-up: one tracer provider per process, exporter chosen by settings."""

from __future__ import annotations

import logging
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

log = logging.getLogger(__name__)
_configured = False


def configure(service: str, exporter: str) -> None:
    """Install a tracer provider once per process; `exporter` is none, console or otlp.

    With `otlp` the standard OTEL_EXPORTER_OTLP_* variables choose the collector.
    """
    global _configured
    if _configured or isinstance(trace.get_tracer_provider(), TracerProvider):
        return  # one provider per process (several services may share a process in tests)
    _configured = True
    if exporter == "none":
        # No spans are wanted: keep the API's no-op tracer, which still carries an incoming
        # trace context on to the events a request or event causes, at no cost per span.
        return
    provider = TracerProvider(
        resource=Resource.create({"service.name": f"govit-{service}", "service.namespace": "govit"})
    )
    span_exporter: SpanExporter | None = None
    if exporter == "console":
        span_exporter = ConsoleSpanExporter()
    elif exporter == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        span_exporter = OTLPSpanExporter()
    if span_exporter is not None:
        provider.add_span_processor(BatchSpanProcessor(span_exporter))
    trace.set_tracer_provider(provider)


def instrument(app: Any, engine: Any) -> None:
    """Trace HTTP requests and SQL statements of one service."""
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # Requests always take up an incoming traceparent, so the events they cause carry it on.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
    if isinstance(trace.get_tracer_provider(), TracerProvider):
        SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine)  # not when nothing records
