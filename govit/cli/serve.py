"""`govit serve`: one service in this process (what a container runs)."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from govit.serve import RUNNABLE


def serve(
    service: Annotated[
        str, typer.Argument(help="intake | review | procurement | acceptance | funding | console")
    ],
    host: Annotated[str | None, typer.Option(help="listen address (default GOVIT_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default the service's)")] = None,
) -> None:
    """Run one service (what a container runs)."""
    if service not in RUNNABLE:
        raise typer.BadParameter(f"unknown service {service!r}; choose from {', '.join(RUNNABLE)}")
    argv = [sys.executable, "-m", "govit.serve", service]
    argv += ["--host", host] if host else []
    argv += ["--port", str(port)] if port else []
    # The service's process keeps this PID but not the command line's libraries (govit.serve).
    sys.stdout.flush()
    sys.stderr.flush()
    os.execv(sys.executable, argv)
