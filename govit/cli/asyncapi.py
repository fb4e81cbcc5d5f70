"""`govit asyncapi`: the AsyncAPI document and JSON Schemas from the event catalog."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def asyncapi(
    write: Annotated[bool, typer.Option(help="write docs/asyncapi.yaml and docs/schemas/")] = False,
    check: Annotated[bool, typer.Option(help="fail when the committed documents differ")] = False,
) -> None:
    """Generate the AsyncAPI 3.0 document and JSON Schemas from the event catalog."""
    from shared.contracts.asyncapi import render_documents

    root = Path("docs")
    documents = render_documents()
    stale = [
        p
        for p, text in documents.items()
        if not (root / p).is_file() or (root / p).read_text(encoding="utf-8") != text
    ]
    if check:
        if stale:
            typer.echo("out of date: " + ", ".join(stale) + " (run make asyncapi)", err=True)
            raise typer.Exit(1)
        typer.echo("docs are up to date")
        return
    if write:
        for path, text in documents.items():
            (root / path).parent.mkdir(parents=True, exist_ok=True)
            (root / path).write_text(text, encoding="utf-8")
        typer.echo(f"wrote {len(documents)} files under {root}/")
        return
    typer.echo(documents["asyncapi.yaml"])
