"""`govit dlq`: the events a consumer parked as dead letters (list, replay)."""

from __future__ import annotations

from typing import Annotated

import typer

from govit.cli.app import suite_bus


def dlq_list(consumer: Annotated[str, typer.Argument(help="the consumer, i.e. the service name")]) -> None:
    """List the events parked for a consumer, with the reason for each."""
    import asyncio

    async def run() -> None:
        bus = suite_bus()
        await bus.connect(timeout=10)
        try:
            await bus.nc.jetstream().stream_info(bus.stream)  # no stream here: say so, not "no dead letters"
            parked = await bus.dead_letters(consumer)
        finally:
            await bus.close()
        if not parked:
            typer.echo(f"{consumer}: 没有死信 / no dead letters")
        for m in parked:
            typer.echo(f"{m.sequence:>8}  {m.original_subject}  {m.reason}")

    asyncio.run(run())


def dlq_replay(
    consumer: Annotated[str, typer.Argument(help="the consumer, i.e. the service name")],
    sequences: Annotated[list[int] | None, typer.Argument(help="sequences to replay (default: all)")] = None,
) -> None:
    """Publish parked events again (after the cause was fixed); handled ones are ignored by the inbox."""
    import asyncio

    async def run() -> int:
        bus = suite_bus()
        await bus.connect(timeout=10)
        try:
            chosen = sequences or [m.sequence for m in await bus.dead_letters(consumer, limit=10_000)]
            for seq in chosen:
                message = await bus.replay(consumer, seq)
                typer.echo(f"replayed {seq} → {message.original_subject}")
            return len(chosen)
        finally:
            await bus.close()

    try:
        count = asyncio.run(run())
    except LookupError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"{count} 条死信已重放 / replayed")
