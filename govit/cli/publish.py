"""`govit publish`: a documented event onto the stream, for systems without a NATS client."""

from __future__ import annotations

import difflib
import json
import re
import sys
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from govit.broker import redacted
from govit.cli.app import options_command, refuse, suite_bus
from shared.settings import SUITE_SOURCE_PREFIX, GovitSettings

if TYPE_CHECKING:
    from shared.contracts import Event

CLI_SOURCE = "urn:govit:cli"


def _read_data(argument: str) -> Any:
    """The event's data given inline, as @path, or as - (standard input)."""
    if argument == "-":
        text, origin = sys.stdin.read(), "standard input"
    elif argument.startswith("@"):
        path = Path(argument[1:])
        try:
            text, origin = path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            refuse(f"cannot read {path}: {exc}")
    else:
        text, origin = argument, "the data argument"
    try:
        return json.loads(text)
    except ValueError as exc:
        refuse(f"{origin} is not JSON: {exc}")


def _location(loc: tuple[int | str, ...]) -> str:
    """A field path as people write it: reasons[0].code."""
    path = ""
    for part in loc:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "(data)"


def _event_problems(event_type: str, data: dict[str, Any]) -> tuple[Event | None, list[str]]:
    """The event the data makes, or each reason it makes none (field path and message).

    Besides the schema: fields the schema lacks are refused (they would be dropped on the way),
    and so is a jurisdiction the suite has no policy pack for (consumers would dead-letter it).
    """
    from pydantic import ValidationError

    from shared.contracts.catalog import event_from
    from shared.policy.pack import JURISDICTIONS

    problems: list[str] = []
    event: Event | None = None
    try:
        event = event_from(event_type, data)
    except ValidationError as exc:
        for error in exc.errors():
            where = _location(error["loc"])
            if error["type"] == "extra_forbidden":
                problems.append(f"{where}: not a field of {event_type}")
            elif error["type"] == "missing":
                problems.append(f"{where}: {error['msg']}")
            else:
                shown = json.dumps(error["input"], ensure_ascii=False, default=str)
                shown = shown if len(shown) <= 80 else shown[:77] + "..."
                problems.append(f"{where}: {error['msg']} (got {shown})")
    jurisdiction = data.get("jurisdiction")
    if (
        isinstance(jurisdiction, str)
        and jurisdiction not in JURISDICTIONS
        and not any(p.startswith("jurisdiction:") for p in problems)
    ):
        problems.append(
            f"jurisdiction: no policy pack for {jurisdiction!r}; one of {', '.join(JURISDICTIONS)}"
        )
    return (None if problems else event), problems


def _instant(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        refuse(f"--time {text!r} is not an ISO 8601 instant, e.g. 2026-06-15T10:00:00+08:00")
    if value.tzinfo is None:
        refuse(f"--time {text!r} needs a UTC offset, e.g. 2026-06-15T10:00:00+08:00 or ...Z")
    return value


class _NotPublished(Exception):
    """NATS could not be reached or JetStream did not store the event."""


@dataclass(frozen=True)
class PublishOptions:
    """The arguments and options of `govit publish`, in the order its help lists them."""

    event_type: Annotated[
        str | None, typer.Argument(help="the event type, e.g. govit.intake.project_approved.v1")
    ] = None
    data: Annotated[
        str | None,
        typer.Argument(help="the event's data: a JSON object, @path to read a file, - to read stdin"),
    ] = None
    source: Annotated[
        str,
        typer.Option(
            help="the CloudEvents source; consuming services accept it only where "
            "GOVIT_TRUSTED_SOURCES lists it for the type"
        ),
    ] = CLI_SOURCE
    event_id: Annotated[
        str | None,
        typer.Option(
            "--id", help="the event id (default a new UUID); the same id again is not published twice"
        ),
    ] = None
    at: Annotated[
        str | None, typer.Option("--time", help="the CloudEvents time, ISO 8601 with offset (default now)")
    ] = None
    sequence: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="this system's number for the event among its events about the project (the "
            "CloudEvents sequence extension); consumers order this source's facts by it",
        ),
    ] = None
    list_types: Annotated[bool, typer.Option("--list", help="print the documented event types")] = False


@dataclass(frozen=True)
class _Outgoing:
    """A checked event, ready for the stream."""

    event: Event
    event_type: str
    source: str
    event_id: str
    raw: bytes
    subject: str


def publish(options: PublishOptions) -> None:
    """Publish a documented event onto the stream, for systems without a NATS client.

    The data is checked against the event's schema first; nothing is published unless it
    validates (exit 2). Exit 1 when NATS is unreachable or no stream stores the event.
    """
    import asyncio
    import logging

    if options.list_types:
        _list_types()
        return
    outgoing = _outgoing(options)
    logging.getLogger("shared.bus").setLevel(logging.ERROR)  # this command reports failures itself
    try:
        ack = asyncio.run(_send(outgoing))
    except _NotPublished as exc:
        typer.echo(f"not published: {exc}", err=True)
        raise typer.Exit(1) from exc
    _report(outgoing, ack)


publish_command = options_command(PublishOptions, publish)


def _list_types() -> None:
    from shared.contracts import CATALOG

    for name, model in CATALOG.items():
        typer.echo(f"{name:<52} {model.summary}")


def _outgoing(options: PublishOptions) -> _Outgoing:
    """The event the options describe, encoded; or exit 2 with what is wrong (nothing published)."""
    from shared.contracts import encode, subject_for

    event_type, data, source = options.event_type, options.data, options.source
    if event_type is None or data is None:
        refuse("give an event type and its data: govit publish <event-type> <json | @file | ->")
    _check_type(event_type)
    _check_source(source)
    chosen_id = options.event_id if options.event_id is not None else str(uuid.uuid4())
    if not re.fullmatch(r"[!-~]{1,64}", chosen_id):
        refuse("--id must be 1 to 64 printable ASCII characters without spaces")
    when = _instant(options.at) if options.at is not None else None
    event = _event(event_type, _read_data(data))
    raw = encode(event, source=source, event_id=chosen_id, time=when, sequence=options.sequence)
    subject = subject_for(GovitSettings().subject_prefix, event)
    return _Outgoing(event, event_type, source, chosen_id, raw, subject)


def _check_type(event_type: str) -> None:
    from shared.contracts import CATALOG

    if event_type not in CATALOG:
        close = [t for t in CATALOG if event_type.lower() in t] + difflib.get_close_matches(
            event_type, list(CATALOG), n=3, cutoff=0.9
        )
        hint = f"; did you mean {', '.join(list(dict.fromkeys(close))[:5])}?" if close else ""
        refuse(f"unknown event type {event_type!r}{hint}\n(govit publish --list prints the documented types)")


def _check_source(source: str) -> None:
    if not re.fullmatch(r"\S{1,255}", source):
        refuse("--source must be 1 to 255 characters without spaces (a URI reference)")
    if source.startswith(SUITE_SOURCE_PREFIX):
        refuse(
            f"--source {source!r} is a govit service's own source: only that service speaks as it. "
            "Publish under your system's own source, which the consuming services' "
            "GOVIT_TRUSTED_SOURCES must name for this type and jurisdiction"
        )


def _event(event_type: str, document: Any) -> Event:
    """The event the document makes; or exit 2 naming each problem."""
    if not isinstance(document, dict):
        refuse(f"the data of {event_type} must be a JSON object")
    event, problems = _event_problems(event_type, document)
    if event is None:
        typer.echo(
            f"not published: the data does not satisfy {event_type} ({len(problems)} problems)", err=True
        )
        for problem in problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2)
    return event


async def _send(outgoing: _Outgoing) -> Any:
    """JetStream's acknowledgement of the event, or _NotPublished saying why there is none."""
    import nats
    from nats.js.errors import APIError, NoStreamResponseError

    bus = suite_bus()
    subject = outgoing.subject
    try:
        try:
            await bus.connect(timeout=5)
        except Exception as exc:
            raise _NotPublished(
                f"NATS is unreachable at {redacted(bus.url)}: {str(exc) or repr(exc)}; "
                "start the suite (make up) or set GOVIT_NATS_URL"
            ) from exc
        try:
            return await bus.nc.jetstream().publish(
                subject,
                outgoing.raw,
                timeout=5,
                stream=bus.stream,
                headers={"Nats-Msg-Id": outgoing.event_id},
            )
        except NoStreamResponseError as exc:
            raise _NotPublished(
                f"no stream answered for {subject} at {redacted(bus.url)}: this NATS holds no stream "
                f"{bus.stream} taking {bus.prefix}.events.> — is it the suite's? (a service creates it "
                "when it starts; see GOVIT_NATS_URL, GOVIT_STREAM, GOVIT_SUBJECT_PREFIX)"
            ) from exc
        except APIError as exc:
            raise _NotPublished(f"JetStream refused the event: {exc.description or exc!r}") from exc
        except (nats.errors.Error, TimeoutError, ConnectionError) as exc:
            raise _NotPublished(f"JetStream did not acknowledge the event: {str(exc) or repr(exc)}") from exc
    finally:
        await bus.close()


def _report(outgoing: _Outgoing, ack: Any) -> None:
    from shared.consume import suite_source

    typer.echo(f"subject  {outgoing.subject}")
    typer.echo(f"id       {outgoing.event_id}")
    if ack.duplicate:
        typer.echo(f"stream   {ack.stream} #{ack.seq} (this id was already there; nothing was added)")
    else:
        typer.echo(f"stream   {ack.stream} #{ack.seq}")
    source = outgoing.source
    if source != suite_source(outgoing.event_type):
        typer.echo(
            f"note: services consume it only if their GOVIT_TRUSTED_SOURCES lists {source!r} "
            f'for {outgoing.event_type} (or for "*") and jurisdiction {outgoing.event.jurisdiction!r} '
            '(or "*"); otherwise they dead-letter it',
            err=True,
        )
