"""`govit audit verify`: each service's audit chain held to its anchors on the stream."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import typer

from govit.cli.app import SERVICES, options_command, refuse, service_module, service_settings, suite_broker
from shared.settings import GovitSettings, ServiceSettings

if TYPE_CHECKING:
    from shared.audit_key import AuditKey


class _NoAnchors(Exception):
    """The anchors could not be read from the stream."""


def _read_anchors(url: str, names: list[str]) -> dict[str, list[Any]]:
    """Every anchor of each service on the stream (shared.audit_anchor), or _NoAnchors."""
    import asyncio
    import logging

    from nats.js.errors import NotFoundError

    from shared.audit_anchor import stored_anchors
    from shared.bus import JetStreamBus

    settings = GovitSettings()
    logging.getLogger("shared.bus").setLevel(logging.ERROR)  # this command reports failures itself

    async def run() -> dict[str, list[Any]]:
        bus = JetStreamBus(url, stream=settings.stream, prefix=settings.subject_prefix, name="govit-audit")
        try:
            try:
                await bus.connect(timeout=5)
            except Exception as exc:
                reason = str(exc) or repr(exc)
                raise _NoAnchors(f"NATS 不可达 / NATS is unreachable at {url}: {reason}") from exc
            try:
                return {name: await stored_anchors(bus, name) for name in names}
            except NotFoundError as exc:
                raise _NoAnchors(f"流 {bus.stream} 不存在 / stream {bus.stream} not found at {url}") from exc
        finally:
            await bus.close()

    return asyncio.run(run())


@dataclass(frozen=True)
class VerifyOptions:
    """The arguments and options of `govit audit verify`, in the order its help lists them."""

    services: Annotated[list[str] | None, typer.Argument(help="services to check (default: all five)")] = None
    db_url: Annotated[
        str | None, typer.Option(help="the database to check instead of the service's configured one")
    ] = None
    expect: Annotated[
        str | None,
        typer.Option(help="a head printed earlier, N:HASH (the full hash): entry N must still carry it"),
    ] = None
    nats_url: Annotated[
        str | None,
        typer.Option(
            help="NATS to read the anchors from (default GOVIT_NATS_URL, else the running `govit up`'s)"
        ),
    ] = None
    require_anchor: Annotated[
        bool,
        typer.Option(
            help="fail when the anchors cannot be read, or a service with entries has none on the stream"
        ),
    ] = False
    state: Annotated[
        bool,
        typer.Option(
            "--state", help="also replay the log and compare it with the rows of the service's audited tables"
        ),
    ] = False


def audit_verify(options: VerifyOptions) -> None:
    """Recompute every service's audit chain from its database and hold it to the anchors the
    service published on the stream: altered, deleted or cut entries are named.

    Without NATS the chains are checked alone, with a warning (exit 1 then only for a broken
    chain, or with --require-anchor).
    """
    chosen = options.services or list(SERVICES)
    for name in chosen:
        service_module(name)
    expected = _expected(options, chosen)
    configured = _configured(chosen)
    url = suite_broker(options.nats_url).url
    stored: dict[str, list[Any]] | None
    try:
        stored = _read_anchors(url, chosen)
    except _NoAnchors as exc:
        stored = None
        typer.echo(f"警告 / warning: {exc}; 只校验哈希链，不对照锚点 / checking the chains alone", err=True)
    broken = 0
    for name in chosen:
        anchors = stored[name] if stored is not None else None
        broken += _verify(name, configured[name], anchors, expected, options)
    if broken:
        raise typer.Exit(1)


audit_verify_command = options_command(VerifyOptions, audit_verify)


def _expected(options: VerifyOptions, chosen: list[str]) -> dict[int, str]:
    """The head --expect names, {N: HASH}; the options checked against the services chosen."""
    if (options.db_url or options.expect) and len(chosen) != 1:
        raise typer.BadParameter("--db-url and --expect name one service's log: give exactly one service")
    expected: dict[int, str] = {}
    if options.expect:
        position, _, digest = options.expect.partition(":")
        if not position.isdigit() or len(digest) != 64:
            raise typer.BadParameter("--expect takes N:HASH, the head `govit audit verify` printed")
        expected[int(position)] = digest
    return expected


def _configured(chosen: list[str]) -> dict[str, ServiceSettings]:
    from pydantic import ValidationError

    try:
        return {name: service_settings(name) for name in chosen}
    except ValidationError as exc:
        refuse(f"设置无效 / invalid settings: {exc}")


def _verify(
    name: str,
    settings: ServiceSettings,
    stored: list[Any] | None,
    expected: dict[int, str],
    options: VerifyOptions,
) -> bool:
    """Check one service's chain (and with --state its rows) and print the findings; True if wrong.

    `stored` is the service's anchors read from the stream, None when they could not be read.
    """
    import asyncio

    from shared.audit_anchor import AnchorCheck, check_anchors
    from shared.audit_key import AuditKey

    key = AuditKey.from_settings(settings)
    anchors = check_anchors(name, stored, key) if stored is not None else AnchorCheck({}, [], 0)
    tables = _audited_tables(name) if options.state else []
    for at, kept in expected.items():
        if anchors.anchors.get(at, kept) != kept:
            anchors.problems.append(
                f"--expect 与流中的锚点在第 {at} 条给出不同哈希 / --expect and an anchor disagree"
            )
    database = _Database(options.db_url or settings.db_url, key, {**anchors.anchors, **expected})
    verdict, differences = asyncio.run(database.check(tables if options.state else None))
    failed = _report_chain(name, verdict, anchors, anchors_read=stored is not None)
    if options.require_anchor and verdict.checked and (stored is None or not anchors.anchors):
        typer.echo(f"{name:<12} NO ANCHOR  没有可对照的锚点 / no anchor to check the chain against")
        failed = True
    for difference in differences:
        typer.echo(f"{name:<12} STATE   {difference.message()}")
    if options.state and not differences:
        typer.echo(f"{name:<12} state   与日志一致 / the rows of {len(tables)} tables match the log")
    return failed or bool(differences)


@dataclass(frozen=True)
class _Database:
    """One service's database and what its chain must carry (the anchors, --expect)."""

    url: str
    key: AuditKey
    anchors: dict[int, str]

    async def check(self, tables: list[Any] | None) -> tuple[Any, list[Any]]:
        """The chain's verdict, and with tables (--state) how their rows differ from the log."""
        from govit.audit_state import Difference, compare
        from shared.audit_api import snapshot_options, verify_database
        from shared.db import create_engine

        engine = create_engine(self.url)
        try:
            verdict = await verify_database(engine, self.key, self.anchors)
            found: list[Difference] = []
            if tables is not None:
                async with engine.connect() as conn:
                    await conn.execution_options(**snapshot_options(engine))
                    found = await conn.run_sync(lambda c: compare(c, tables))
            return verdict, found
        finally:
            await engine.dispose()


def _report_chain(name: str, verdict: Any, anchors: Any, *, anchors_read: bool) -> bool:
    """Print what was found of one chain and its anchors; True when something is wrong."""
    for problem in anchors.problems:
        typer.echo(f"{name:<12} ANCHOR  {problem}")
    if not verdict.intact:
        typer.echo(f"{name:<12} BROKEN  {verdict.problem}  ({verdict.checked} entries intact before it)")
        return True
    head = f"head {verdict.head_n}:{verdict.head_hash}"
    if not anchors_read:
        held = "anchors not read"
    elif anchors.anchors:
        held = f"{len(anchors.anchors)} anchors held, furthest {anchors.furthest}"
    else:
        held = "no anchor on the stream yet"
    typer.echo(f"{name:<12} intact  {verdict.checked} entries  {head}  ({held})")
    return bool(anchors.problems)


def _audited_tables(name: str) -> list[Any]:
    """The tables of a service whose changes the audit log records."""
    from sqlalchemy import MetaData

    from shared.audit import SKIP_INFO_KEY

    metadata = importlib.import_module(f"services.{name}.db").metadata
    assert isinstance(metadata, MetaData)
    return [t for t in metadata.sorted_tables if t.info.get(SKIP_INFO_KEY, True)]
