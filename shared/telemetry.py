"""OpenTelemetry set-up: one tracer provider per process, exporter chosen by settings."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from typing import Any

from opentelemetry import context, propagate, trace

log = logging.getLogger(__name__)
_configured = False


def recording() -> bool:
    """Whether a tracer provider that records spans is installed (this module's, or a test's)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider | trace.NoOpTracerProvider)


@contextlib.contextmanager
def within(carried: context.Context) -> Iterator[trace.Span]:
    """A trace context taken up from a message made current, with no span of its own: what the
    no-op tracer would do, without building the span it throws away. Yields its (non-recording)
    span, on which attributes and errors are dropped."""
    token = context.attach(carried)
    try:
        yield trace.get_current_span(carried)
    finally:
        context.detach(token)


def configure(service: str, exporter: str) -> None:
    """Install a tracer provider once per process; `exporter` is none, console or otlp.

    With `otlp` the standard OTEL_EXPORTER_OTLP_* variables choose the collector.
    """
    global _configured
    if _configured or recording():
        return  # one provider per process (several services may share a process in tests)
    _configured = True
    if exporter == "none":
        # No spans are wanted: keep the API's no-op tracer, which still carries an incoming
        # trace context on to the events a request or event causes, at no cost per span, and
        # leave the SDK unloaded.
        return
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter, SpanExporter

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
    """Trace HTTP requests and SQL statements of one service, when something records spans (with
    nothing recording, the app's TraceContext middleware alone takes up an incoming trace context,
    and the instrumentation libraries stay unloaded)."""
    if not recording():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor
    from opentelemetry.instrumentation.sqlalchemy import SQLAlchemyInstrumentor

    # Requests always take up an incoming traceparent, so the events they cause carry it on.
    FastAPIInstrumentor.instrument_app(app, excluded_urls="healthz,readyz,metrics")
    SQLAlchemyInstrumentor().instrument(engine=engine.sync_engine)


_CARRIED = (b"traceparent", b"tracestate", b"baggage")


class TraceContext:
    """ASGI middleware: a request's W3C trace context (traceparent, tracestate, baggage) becomes the
    current context while it is handled, so that the events it causes carry the caller's trace."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        carrier = {
            name.decode("latin-1"): value.decode("latin-1")
            for name, value in scope.get("headers", ())
            if name in _CARRIED
        }
        if scope["type"] != "http" or not carrier:
            await self.app(scope, receive, send)
            return
        with within(propagate.extract(carrier)):
            await self.app(scope, receive, send)
