"""The console's /metrics: its process, its pages' requests, and its calls to the five services
by service and outcome — what an operator looks at when people say a page is slow or says a
service cannot be reached."""

from __future__ import annotations

from fastapi import FastAPI, Response
from prometheus_client import CONTENT_TYPE_LATEST, Histogram, generate_latest

from shared.metrics import Measured, process_registry


class ConsoleMetrics:
    def __init__(self) -> None:
        self.registry, self.requests = process_registry("console")
        self.calls = Histogram(
            "govit_console_backend_seconds",
            "the console's calls to the services: duration by service and outcome "
            "(ok, refused: a 4xx answer, unavailable: no answer or a 5xx)",
            ["service", "outcome"],
            registry=self.registry,
        )

    def observe(self, service: str, outcome: str, seconds: float) -> None:
        self.calls.labels(service, outcome).observe(seconds)


def install(app: FastAPI, metrics: ConsoleMetrics) -> None:
    app.add_middleware(Measured, requests=metrics.requests)

    @app.get("/metrics", include_in_schema=False)
    async def get_metrics() -> Response:
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
