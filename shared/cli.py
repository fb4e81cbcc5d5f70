"""The `govit` command: run the suite or one service, issue dev tokens, load holiday notices."""

from __future__ import annotations

import difflib
import importlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import httpx
import typer

from shared.db import file_clock
from shared.settings import SUITE_SOURCE_PREFIX, GovitSettings, ServiceSettings

if TYPE_CHECKING:
    from shared.contracts import Event

SERVICES: tuple[str, ...] = ("intake", "review", "procurement", "acceptance", "funding")

app = typer.Typer(help="govit — 政务信息化项目全生命周期管理", no_args_is_help=True, add_completion=False)
calendar_app = typer.Typer(help="工作日历: 加载国务院节假日安排通知", no_args_is_help=True)
app.add_typer(calendar_app, name="calendar")
dlq_app = typer.Typer(help="死信: 无法处理的事件 (list, replay)", no_args_is_help=True)
app.add_typer(dlq_app, name="dlq")
audit_app = typer.Typer(help="审计日志: 校验哈希链 (verify)", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _service_module(name: str) -> Any:
    if name not in SERVICES:
        raise typer.BadParameter(f"unknown service {name!r}; choose from {', '.join(SERVICES)}")
    return importlib.import_module(f"services.{name}.main")


def _service_settings(name: str) -> ServiceSettings:
    module = importlib.import_module(f"services.{name}.settings")
    cls = next(v for k, v in vars(module).items() if k.endswith("Settings") and k != "ServiceSettings")
    settings: ServiceSettings = cls()
    return settings


@app.command()
def serve(
    service: Annotated[str, typer.Argument(help="intake | review | procurement | acceptance | funding")],
    host: Annotated[str | None, typer.Option(help="listen address (default GOVIT_HOST)")] = None,
    port: Annotated[int | None, typer.Option(help="listen port (default the service's)")] = None,
) -> None:
    """Run one service (what a container runs)."""
    import uvicorn

    module = _service_module(service)
    settings = _service_settings(service)
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


@app.command()
def up(
    services: Annotated[
        list[str] | None, typer.Argument(help="services to start (default: all five)")
    ] = None,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each service to be ready")] = 90,
) -> None:
    """Start NATS (embedded unless GOVIT_NATS_URL is set) and the services; Ctrl-C stops all."""
    from shared.devnats import EmbeddedNats, free_port, port_is_free

    names = services or list(SERVICES)
    for name in names:
        _service_module(name)
    base = GovitSettings()
    env = dict(os.environ)
    if base.environment == "development" and base.clock_file is None:
        # `govit demo` moves the suite's time through this file; without it the clock is real.
        env["GOVIT_CLOCK_FILE"] = str((base.var_dir / "clock").resolve())
    nats: EmbeddedNats | None = None
    children: dict[str, subprocess.Popen[bytes]] = {}
    logs = base.var_dir / "log"
    logs.mkdir(parents=True, exist_ok=True)

    def shutdown(code: int) -> None:
        typer.echo("正在停止 / stopping ...")
        for proc in children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in children.items():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                typer.echo(f"  {name} did not stop in time; killing")
                proc.kill()
        if nats is not None:
            nats.stop()
        typer.echo("已停止 / stopped")
        raise typer.Exit(code)

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background with SIGINT ignored
    try:
        if base.nats_url is None:
            wanted = int(env.get("GOVIT_EMBEDDED_NATS_PORT", "4222"))
            port = wanted if port_is_free(wanted) else free_port()
            if port != wanted:
                typer.echo(f"port {wanted} is taken; embedded NATS uses {port}")
            nats = EmbeddedNats(base.var_dir / "nats", port=port).start()
            env["GOVIT_NATS_URL"] = nats.url
            typer.echo(f"NATS JetStream (embedded, fsync always)  {nats.url}  data: {base.var_dir / 'nats'}")
        else:
            typer.echo(f"NATS  {base.nats_url}")
        urls: dict[str, str] = {}
        for name in names:
            settings = _service_settings(name)
            if not port_is_free(settings.port, settings.host):
                typer.echo(
                    f"{name}: port {settings.port} is in use (set GOVIT_{name.upper()}_PORT)", err=True
                )
                shutdown(1)
            log_path = logs / f"{name}.log"
            with log_path.open("ab") as log_file:
                children[name] = subprocess.Popen(
                    [sys.executable, "-m", "shared.cli", "serve", name],
                    env=env,
                    stdout=log_file,
                    stderr=subprocess.STDOUT,
                    stdin=subprocess.DEVNULL,
                    # Own session: the terminal's Ctrl-C reaches only `govit up`, which stops
                    # the services first and NATS last.
                    start_new_session=True,
                )
            urls[name] = f"http://{settings.host}:{settings.port}"
            typer.echo(f"starting {name:<12} {urls[name]}  (log: {log_path})")
        for name in names:
            _wait_ready(name, urls[name], children[name], timeout)
            typer.echo(f"  ready  {name:<12} {urls[name]}   API docs: {urls[name]}/docs")
        typer.echo("govit is up. 按 Ctrl-C 停止 / press Ctrl-C to stop.")
        while True:
            for name, proc in children.items():
                if proc.poll() is not None:
                    typer.echo(
                        f"{name} exited with {proc.returncode}; see {logs / (name + '.log')}", err=True
                    )
                    shutdown(1)
            time.sleep(0.5)
    except KeyboardInterrupt:
        shutdown(0)
    except (TimeoutError, RuntimeError, FileNotFoundError) as exc:
        typer.echo(str(exc), err=True)
        shutdown(1)


def _wait_ready(name: str, url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} while starting")
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{name} was not ready within {timeout:.0f}s ({url}/readyz)")


@app.command()
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


@calendar_app.command("load")
def calendar_load(file: Annotated[Path, typer.Argument(exists=True, dir_okay=False)]) -> None:
    """Load a year's official holiday notice (YAML) so deadlines in it are no longer provisional."""
    from pydantic import ValidationError

    from shared.workdays import load_notice

    settings = GovitSettings()
    try:
        notice = load_notice(file, settings.calendar_path)
    except (ValidationError, ValueError) as exc:
        typer.echo(f"通知文件无效: {exc}", err=True)
        raise typer.Exit(2) from exc
    typer.echo(
        f"已加载 {notice.year} 年节假日安排（{notice.source}）: "
        f"{len(notice.holiday_dates())} 天假日, {len(notice.workdays)} 天调休上班 → {settings.calendar_path}"
    )
    typer.echo("服务重启后生效 / restart the services to apply")


@calendar_app.command("show")
def calendar_show(year: int) -> None:
    """Show whether a year's arrangement is known, and its holidays."""
    from shared.workdays import WorkingCalendar

    cal = WorkingCalendar.from_dir(GovitSettings().calendar_path)
    if year in cal.notices:
        notice = cal.notices[year]
        typer.echo(f"{year}: 已加载通知 — {notice.source}")
        for p in notice.holidays:
            typer.echo(f"  {p.name}: {p.start} ~ {p.end}")
        for d in notice.workdays:
            typer.echo(f"  调休上班: {d}")
    elif cal.known(year):
        typer.echo(f"{year}: 由 chinesecalendar 提供")
    else:
        typer.echo(f"{year}: 尚未加载节假日通知，该年期限仅按周末计算，标注为暂定")


def _bus() -> Any:
    from shared.bus import JetStreamBus

    settings = GovitSettings()
    return JetStreamBus(
        settings.nats_url or "nats://127.0.0.1:4222",
        stream=settings.stream,
        prefix=settings.subject_prefix,
        name="govit-cli",
    )


@dlq_app.command("list")
def dlq_list(consumer: Annotated[str, typer.Argument(help="the consumer, i.e. the service name")]) -> None:
    """List the events parked for a consumer, with the reason for each."""
    import asyncio

    async def run() -> None:
        bus = _bus()
        await bus.connect(timeout=10)
        try:
            parked = await bus.dead_letters(consumer)
        finally:
            await bus.close()
        if not parked:
            typer.echo(f"{consumer}: 没有死信 / no dead letters")
        for m in parked:
            typer.echo(f"{m.sequence:>8}  {m.original_subject}  {m.reason}")

    asyncio.run(run())


@dlq_app.command("replay")
def dlq_replay(
    consumer: Annotated[str, typer.Argument(help="the consumer, i.e. the service name")],
    sequences: Annotated[list[int] | None, typer.Argument(help="sequences to replay (default: all)")] = None,
) -> None:
    """Publish parked events again (after the cause was fixed); handled ones are ignored by the inbox."""
    import asyncio

    async def run() -> int:
        bus = _bus()
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


@app.command()
def demo(
    jurisdiction: Annotated[
        list[str] | None, typer.Option("--jurisdiction", "-j", help="only these (default: all five)")
    ] = None,
) -> None:
    """Seed the running suite and walk one project per jurisdiction from declaration to O&M funds."""
    from shared.auth import TokenIssuer
    from shared.demo import DemoError, free_start, run_demo
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
    urls = {name: f"http://{s.host}:{s.port}" for name in SERVICES for s in [_service_settings(name)]}
    for name, url in urls.items():
        ready = False
        for _ in range(20):  # a consumer reconnecting makes /readyz say 503 for a moment
            try:
                ready = httpx.get(f"{url}/readyz", timeout=3).status_code == 200
            except httpx.HTTPError:
                ready = False
            if ready:
                break
            time.sleep(0.5)
        if not ready:
            typer.echo(f"{name} is not running at {url}; start the suite first (make up)", err=True)
            raise typer.Exit(1)
    clock = (settings.clock_file or settings.var_dir / "clock").resolve()
    issuer = TokenIssuer(settings)
    try:
        start = free_start(urls, issuer, chosen, first_year=date.today().year)
        run_demo(urls, issuer, load_registry(settings.policy_dir), clock, chosen, start)
    except DemoError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc


@app.command()
def timeline(
    project: Annotated[str, typer.Argument(help="the project id")],
    as_json: Annotated[bool, typer.Option("--json", help="one CloudEvent per line")] = False,
) -> None:
    """Print a project's lifecycle across all services, read back from the stream in order."""
    import asyncio
    import json

    from shared.timeline import describe, project_events

    async def run() -> list[Any]:
        bus = _bus()
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
            typer.echo(
                json.dumps(
                    {
                        "id": envelope.id,
                        "type": envelope.type,
                        "source": envelope.source,
                        "time": envelope.time.isoformat(),
                        "data": envelope.data.model_dump(mode="json"),
                    },
                    ensure_ascii=False,
                )
            )
        else:
            typer.echo(describe(envelope))


CLI_SOURCE = "urn:govit:cli"


def _refuse(message: str) -> NoReturn:
    """Exit 2: what was asked for is wrong, and nothing was done."""
    typer.echo(message, err=True)
    raise typer.Exit(2)


def _read_data(argument: str) -> Any:
    """The event's data given inline, as @path, or as - (standard input)."""
    if argument == "-":
        text, origin = sys.stdin.read(), "standard input"
    elif argument.startswith("@"):
        path = Path(argument[1:])
        try:
            text, origin = path.read_text(encoding="utf-8"), str(path)
        except (OSError, UnicodeDecodeError) as exc:
            _refuse(f"cannot read {path}: {exc}")
    else:
        text, origin = argument, "the data argument"
    try:
        return json.loads(text)
    except ValueError as exc:
        _refuse(f"{origin} is not JSON: {exc}")


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
        _refuse(f"--time {text!r} is not an ISO 8601 instant, e.g. 2026-06-15T10:00:00+08:00")
    if value.tzinfo is None:
        _refuse(f"--time {text!r} needs a UTC offset, e.g. 2026-06-15T10:00:00+08:00 or ...Z")
    return value


class _NotPublished(Exception):
    """NATS could not be reached or JetStream did not store the event."""


@app.command()
def publish(
    event_type: Annotated[
        str | None, typer.Argument(help="the event type, e.g. govit.intake.project_approved.v1")
    ] = None,
    data: Annotated[
        str | None,
        typer.Argument(help="the event's data: a JSON object, @path to read a file, - to read stdin"),
    ] = None,
    source: Annotated[
        str,
        typer.Option(
            help="the CloudEvents source; consuming services accept it only where "
            "GOVIT_TRUSTED_SOURCES lists it for the type"
        ),
    ] = CLI_SOURCE,
    event_id: Annotated[
        str | None,
        typer.Option(
            "--id", help="the event id (default a new UUID); the same id again is not published twice"
        ),
    ] = None,
    at: Annotated[
        str | None, typer.Option("--time", help="the CloudEvents time, ISO 8601 with offset (default now)")
    ] = None,
    sequence: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="this system's number for the event among its events about the project (the "
            "CloudEvents sequence extension); consumers order this source's facts by it",
        ),
    ] = None,
    list_types: Annotated[bool, typer.Option("--list", help="print the documented event types")] = False,
) -> None:
    """Publish a documented event onto the stream, for systems without a NATS client.

    The data is checked against the event's schema first; nothing is published unless it
    validates (exit 2). Exit 1 when NATS is unreachable or no stream stores the event.
    """
    import asyncio
    import logging

    import nats
    from nats.js.errors import APIError, NoStreamResponseError

    from shared.contracts import CATALOG, encode, subject_for

    if list_types:
        for name, model in CATALOG.items():
            typer.echo(f"{name:<52} {model.summary}")
        return
    if event_type is None or data is None:
        _refuse("give an event type and its data: govit publish <event-type> <json | @file | ->")
    if event_type not in CATALOG:
        close = [t for t in CATALOG if event_type.lower() in t] + difflib.get_close_matches(
            event_type, list(CATALOG), n=3, cutoff=0.9
        )
        hint = f"; did you mean {', '.join(list(dict.fromkeys(close))[:5])}?" if close else ""
        _refuse(
            f"unknown event type {event_type!r}{hint}\n(govit publish --list prints the documented types)"
        )
    if not re.fullmatch(r"\S{1,255}", source):
        _refuse("--source must be 1 to 255 characters without spaces (a URI reference)")
    if source.startswith(SUITE_SOURCE_PREFIX):
        _refuse(
            f"--source {source!r} is a govit service's own source: only that service speaks as it. "
            "Publish under your system's own source, which the consuming services' "
            "GOVIT_TRUSTED_SOURCES must name for this type and jurisdiction"
        )
    chosen_id = event_id if event_id is not None else str(uuid.uuid4())
    if not re.fullmatch(r"[!-~]{1,64}", chosen_id):
        _refuse("--id must be 1 to 64 printable ASCII characters without spaces")
    when = _instant(at) if at is not None else None
    document = _read_data(data)
    if not isinstance(document, dict):
        _refuse(f"the data of {event_type} must be a JSON object")
    event, problems = _event_problems(event_type, document)
    if event is None:
        typer.echo(
            f"not published: the data does not satisfy {event_type} ({len(problems)} problems)", err=True
        )
        for problem in problems:
            typer.echo(f"  {problem}", err=True)
        raise typer.Exit(2)

    settings = GovitSettings()
    subject = subject_for(settings.subject_prefix, event)
    raw = encode(event, source=source, event_id=chosen_id, time=when, sequence=sequence)
    logging.getLogger("shared.bus").setLevel(logging.ERROR)  # this command reports failures itself

    async def run() -> Any:
        bus = _bus()
        try:
            try:
                await bus.connect(timeout=5)
            except Exception as exc:
                raise _NotPublished(
                    f"NATS is unreachable at {bus.url} (GOVIT_NATS_URL): {str(exc) or repr(exc)}"
                ) from exc
            try:
                return await bus.nc.jetstream().publish(
                    subject, raw, timeout=5, stream=bus.stream, headers={"Nats-Msg-Id": chosen_id}
                )
            except NoStreamResponseError as exc:
                raise _NotPublished(
                    f"no stream answered for {subject} at {bus.url}: stream {bus.stream} does not exist "
                    f"or does not take {bus.prefix}.events.> (a service creates it when it starts; "
                    "see GOVIT_STREAM, GOVIT_SUBJECT_PREFIX)"
                ) from exc
            except APIError as exc:
                raise _NotPublished(f"JetStream refused the event: {exc.description or exc!r}") from exc
            except (nats.errors.Error, TimeoutError, ConnectionError) as exc:
                raise _NotPublished(
                    f"JetStream did not acknowledge the event: {str(exc) or repr(exc)}"
                ) from exc
        finally:
            await bus.close()

    try:
        ack = asyncio.run(run())
    except _NotPublished as exc:
        typer.echo(f"not published: {exc}", err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"subject  {subject}")
    typer.echo(f"id       {chosen_id}")
    if ack.duplicate:
        typer.echo(f"stream   {ack.stream} #{ack.seq} (this id was already there; nothing was added)")
    else:
        typer.echo(f"stream   {ack.stream} #{ack.seq}")
    from shared.consume import suite_source

    if source != suite_source(event_type):
        typer.echo(
            f"note: services consume it only if their GOVIT_TRUSTED_SOURCES lists {source!r} "
            f'for {event_type} (or for "*") and jurisdiction {event.jurisdiction!r} (or "*"); '
            "otherwise they dead-letter it",
            err=True,
        )


@app.command("nats-config")
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
    from shared.contracts.catalog import CATALOG
    from shared.natsauth import Publisher, server_config, suite_users
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


@app.command()
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


@audit_app.command("verify")
def audit_verify(
    services: Annotated[
        list[str] | None, typer.Argument(help="services to check (default: all five)")
    ] = None,
    db_url: Annotated[
        str | None, typer.Option(help="the database to check instead of the service's configured one")
    ] = None,
    expect: Annotated[
        str | None,
        typer.Option(help="a head printed earlier, N:HASH (the full hash): entry N must still carry it"),
    ] = None,
    nats_url: Annotated[
        str | None,
        typer.Option(
            help="NATS to read the anchors from (default GOVIT_NATS_URL, else nats://127.0.0.1:4222)"
        ),
    ] = None,
    require_anchor: Annotated[
        bool,
        typer.Option(
            help="fail when the anchors cannot be read, or a service with entries has none on the stream"
        ),
    ] = False,
    state: Annotated[
        bool,
        typer.Option(
            "--state", help="also replay the log and compare it with the rows of the service's audited tables"
        ),
    ] = False,
) -> None:
    """Recompute every service's audit chain from its database and hold it to the anchors the
    service published on the stream: altered, deleted or cut entries are named.

    Without NATS the chains are checked alone, with a warning (exit 1 then only for a broken
    chain, or with --require-anchor).
    """
    import asyncio

    from pydantic import ValidationError

    from shared.audit_anchor import AnchorCheck, check_anchors
    from shared.audit_api import snapshot_options, verify_database
    from shared.audit_key import AuditKey
    from shared.audit_state import Difference, compare
    from shared.db import create_engine

    chosen = services or list(SERVICES)
    for name in chosen:
        _service_module(name)
    if (db_url or expect) and len(chosen) != 1:
        raise typer.BadParameter("--db-url and --expect name one service's log: give exactly one service")
    expected: dict[int, str] = {}
    if expect:
        position, _, digest = expect.partition(":")
        if not position.isdigit() or len(digest) != 64:
            raise typer.BadParameter("--expect takes N:HASH, the head `govit audit verify` printed")
        expected[int(position)] = digest
    try:
        configured = {name: _service_settings(name) for name in chosen}
    except ValidationError as exc:
        _refuse(f"设置无效 / invalid settings: {exc}")

    url = nats_url or GovitSettings().nats_url or "nats://127.0.0.1:4222"
    stored: dict[str, list[Any]] | None
    try:
        stored = _read_anchors(url, chosen)
    except _NoAnchors as exc:
        stored = None
        typer.echo(f"警告 / warning: {exc}; 只校验哈希链，不对照锚点 / checking the chains alone", err=True)

    async def check(url: str, key: AuditKey, anchors: dict[int, str], tables: list[Any]) -> Any:
        engine = create_engine(url)
        try:
            verdict = await verify_database(engine, key, {**anchors, **expected})
            found: list[Difference] = []
            if state:
                async with engine.connect() as conn:
                    await conn.execution_options(**snapshot_options(engine))
                    found = await conn.run_sync(lambda c: compare(c, tables))
            return verdict, found
        finally:
            await engine.dispose()

    broken = 0
    for name in chosen:
        settings = configured[name]
        key = AuditKey.from_settings(settings)
        anchors = check_anchors(name, stored[name], key) if stored is not None else AnchorCheck({}, [], 0)
        tables = _audited_tables(name) if state else []
        for at, kept in expected.items():
            if anchors.anchors.get(at, kept) != kept:
                anchors.problems.append(
                    f"--expect 与流中的锚点在第 {at} 条给出不同哈希 / --expect and an anchor disagree"
                )
        verdict, differences = asyncio.run(check(db_url or settings.db_url, key, anchors.anchors, tables))
        failed = _report_chain(name, verdict, anchors, anchors_read=stored is not None)
        if require_anchor and verdict.checked and (stored is None or not anchors.anchors):
            typer.echo(f"{name:<12} NO ANCHOR  没有可对照的锚点 / no anchor to check the chain against")
            failed = True
        for difference in differences:
            typer.echo(f"{name:<12} STATE   {difference.message()}")
        if state and not differences:
            typer.echo(f"{name:<12} state   与日志一致 / the rows of {len(tables)} tables match the log")
        broken += failed or bool(differences)
    if broken:
        raise typer.Exit(1)


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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
