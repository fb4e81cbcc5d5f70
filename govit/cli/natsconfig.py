"""`govit nats-config`: the nats-server authorization block for the suite (govit.natsauth)."""

from __future__ import annotations

from typing import Annotated

import typer

from govit.cli.app import SERVICES
from shared.settings import GovitSettings


def nats_config(
    service: Annotated[
        list[str] | None, typer.Option("--service", help="services to give users (default: all five)")
    ] = None,
    publisher: Annotated[
        list[str] | None,
        typer.Option(
            help="another system publishing some event types for some jurisdictions: "
            "NAME=TYPE[,TYPE…]@JURISDICTION[,JURISDICTION…] ('@*' for every jurisdiction; e.g. "
            "project-system=govit.intake.project_approved.v1@zhonglou)"
        ),
    ] = None,
    subscriber: Annotated[
        list[str] | None, typer.Option(help="another system reading events with its own durable consumer")
    ] = None,
    admin: Annotated[bool, typer.Option(help="an operators' user with every permission")] = True,
) -> None:
    """Print the nats-server authorization block: each service publishes only its own events."""
    from govit.natsauth import Publisher, server_config, suite_users
    from shared.contracts.catalog import CATALOG
    from shared.policy import load_registry

    for name in service or []:
        if name not in SERVICES:
            raise typer.BadParameter(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    packs = load_registry(GovitSettings().policy_dir)
    publishers: dict[str, Publisher] = {}
    for spec in publisher or []:
        name, _, rest = spec.partition("=")
        types, at, places = rest.partition("@")
        wanted = [t.strip() for t in types.split(",") if t.strip()]
        jurisdictions = [j.strip() for j in places.split(",") if j.strip()]
        unknown = [t for t in wanted if t not in CATALOG]
        unknown += [j for j in jurisdictions if j != "*" and j not in packs]
        if not name or not wanted or not at or not jurisdictions or unknown:
            raise typer.BadParameter(
                f"--publisher {spec!r}: NAME=TYPE[,TYPE…]@JURISDICTION[,JURISDICTION…] with known event "
                f"types and jurisdictions ('@*' for every jurisdiction)"
                + (f"; unknown: {', '.join(unknown)}" if unknown else "")
            )
        publishers[name] = Publisher(tuple(wanted), tuple(jurisdictions))
    settings = GovitSettings()
    try:
        users = suite_users(
            prefix=settings.subject_prefix,
            stream=settings.stream,
            services=service or SERVICES,
            publishers=publishers,
            subscribers=subscriber or [],
            admin=admin,
        )
        text = server_config(users)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    typer.echo(f"# govit NATS users (prefix {settings.subject_prefix}, stream {settings.stream}).")
    typer.echo("# Set each password variable in nats-server's environment; clients put it in their URL.")
    typer.echo("# Begin each password with a letter: nats-server reads a variable's value as a config")
    typer.echo("# value, and one beginning with a digit or '-' may be taken for a number or a date.")
    typer.echo(text, nl=False)
