"""`govit token`: a development token for a role, an agency and jurisdictions."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

import typer

from shared.settings import GovitSettings


def token(
    role: Annotated[str, typer.Option(help="applicant | authority | expert | finance | auditor | admin")],
    sub: Annotated[str, typer.Option(help="user id")] = "dev-user",
    agency: Annotated[str | None, typer.Option(help="建设单位 (required for applicant)")] = None,
    jurisdiction: Annotated[
        list[str] | None,
        typer.Option(
            "--jurisdiction",
            "-j",
            help="辖区 the holder acts for, repeatable or comma-separated (required for authority, "
            "finance, expert and auditor; optional for applicant; admin spans all)",
        ),
    ] = None,
    name: Annotated[str | None, typer.Option(help="display name")] = None,
    hours: Annotated[float, typer.Option(help="validity in hours")] = 8,
) -> None:
    """Issue a development token signed with GOVIT_JWT_SECRET."""
    from shared.auth import Role, TokenIssuer

    settings = GovitSettings()
    if settings.environment == "production":
        typer.echo("refusing to issue development tokens in production", err=True)
        raise typer.Exit(2)
    try:
        typer.echo(
            TokenIssuer(settings).issue(
                sub=sub,
                role=Role(role),
                agency=agency,
                name=name,
                jurisdictions=[code.strip() for given in jurisdiction or () for code in given.split(",")],
                ttl=timedelta(hours=hours),
            )
        )
    except ValueError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from exc
