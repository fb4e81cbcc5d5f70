"""`govit timeline`: a project's lifecycle read back from the stream (govit.timeline)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from govit.cli.app import suite_bus


def timeline(
    project: Annotated[str, typer.Argument(help="the project id")],
    as_json: Annotated[
        bool, typer.Option("--json", help="one CloudEvent per line (structured CloudEvents 1.0 JSON)")
    ] = False,
) -> None:
    """Print a project's lifecycle across all services, read back from the stream in order."""
    import asyncio

    from govit.timeline import as_cloudevent, describe, project_events

    async def run() -> list[Any]:
        bus = suite_bus()
        await bus.connect(timeout=10)
        try:
            return await project_events(bus, project)
        finally:
            await bus.close()

    found = asyncio.run(run())
    if not found:
        typer.echo(f"流中没有项目 {project} 的事件 / no events for this project", err=True)
        raise typer.Exit(1)
    for envelope in found:
        if as_json:
            typer.echo(as_cloudevent(envelope))
        else:
            typer.echo(describe(envelope))
