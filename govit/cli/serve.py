"""`govit serve`: one service in this process (what a container runs)."""

from __future__ import annotations

from typing import Annotated

import typer

from govit.cli.app import service_module, service_settings
from shared.db import file_clock


def serve(
    service: Annotated[str, typer.Argument(help="intake | review | procurement | acceptance | funding")],
    host: Annotated[str | None, typer.Option(help="listen address (default GOVIT_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default the service's)")] = None,
) -> None:
    """Run one service (what a container runs)."""
    import uvicorn

    module = service_module(service)
    settings = service_settings(service)
    if settings.nats_url is None:
        settings = settings.model_copy(update={"nats_url": "nats://127.0.0.1:4222"})
    clock = {"clock": file_clock(settings.clock_file)} if settings.clock_file else {}
    application = module.create_app(settings, **clock)
    uvicorn.run(
        application,
        host=host or settings.host,
        port=port or settings.port,
        log_level=settings.log_level.lower(),
        timeout_graceful_shutdown=15,
        proxy_headers=True,
    )
