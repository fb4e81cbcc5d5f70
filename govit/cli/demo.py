"""`govit demo`: seed the running suite and walk one project per jurisdiction (govit.demo)."""

from __future__ import annotations

import time
from datetime import date
from typing import Annotated

import httpx
import typer

from govit.cli.app import SERVICES, service_settings, suite_broker
from govit.launch import ready_as
from shared.settings import GovitSettings


def demo(
    jurisdiction: Annotated[
        list[str] | None, typer.Option("--jurisdiction", "-j", help="only these (default: all five)")
    ] = None,
) -> None:
    """Seed the running suite and walk one project per jurisdiction from declaration to O&M funds."""
    from govit.demo import Demo, DemoError, free_start, run_demo
    from govit.demo.watch import EventWatch
    from shared.auth import TokenIssuer
    from shared.policy import load_registry
    from shared.policy.pack import JURISDICTIONS

    settings = GovitSettings()
    if settings.environment == "production":
        typer.echo("the demo writes data and moves the clock; refused in production", err=True)
        raise typer.Exit(2)
    chosen = jurisdiction or list(JURISDICTIONS)
    unknown = [j for j in chosen if j not in JURISDICTIONS]
    if unknown:
        raise typer.BadParameter(
            f"unknown jurisdiction {', '.join(unknown)}; choose from {', '.join(JURISDICTIONS)}"
        )
    urls = {name: f"http://{s.host}:{s.port}" for name in SERVICES for s in [service_settings(name)]}
    for name, url in urls.items():
        if not _ready(name, url):
            typer.echo(f"{name} is not running at {url}; start the suite first (make up)", err=True)
            raise typer.Exit(1)
    clock = (settings.clock_file or settings.var_dir / "clock").resolve()
    issuer = TokenIssuer(settings)
    watch = EventWatch(suite_broker().url, settings.subject_prefix).start()
    try:
        start = free_start(urls, issuer, chosen, first_year=date.today().year)
        run_demo(Demo(urls, issuer, load_registry(settings.policy_dir), clock, watch=watch), chosen, start)
    except DemoError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    finally:
        watch.close()


def _ready(name: str, url: str) -> bool:
    """Whether the service answers ready within about ten seconds (it, not another server there)."""
    for _ in range(20):  # a consumer reconnecting makes /readyz say 503 for a moment
        try:
            if ready_as(httpx.get(f"{url}/readyz", timeout=3), name):
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    return False
