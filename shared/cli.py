"""The `govit` command: run the suite or one service, issue dev tokens, load holiday notices."""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from shared.db import file_clock
from shared.settings import GovitSettings, ServiceSettings

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
                sub=sub, role=Role(role), agency=agency, name=name, ttl=timedelta(hours=hours)
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


@audit_app.command("verify")
def audit_verify(
    services: Annotated[
        list[str] | None, typer.Argument(help="services to check (default: all five)")
    ] = None,
    db_url: Annotated[
        str | None, typer.Option(help="the database to check instead of the service's configured one")
    ] = None,
) -> None:
    """Recompute every service's audit chain from its database: altered, deleted or cut entries are named."""
    import asyncio

    from shared.audit import Verdict, verify
    from shared.db import create_engine

    chosen = services or list(SERVICES)
    for name in chosen:
        _service_module(name)
    if db_url and len(chosen) != 1:
        raise typer.BadParameter("--db-url names one database: give exactly one service")

    async def check(url: str) -> Verdict:
        engine = create_engine(url)
        try:
            async with engine.connect() as conn:
                return await conn.run_sync(lambda c: verify(c))
        finally:
            await engine.dispose()

    broken = 0
    for name in chosen:
        verdict = asyncio.run(check(db_url or _service_settings(name).db_url))
        head = f"head {verdict.head_n}:{verdict.head_hash[:16]}"
        if verdict.intact:
            typer.echo(f"{name:<12} intact  {verdict.checked} entries  {head}")
        else:
            broken += 1
            typer.echo(f"{name:<12} BROKEN  {verdict.problem}  ({verdict.checked} entries intact before it)")
    if broken:
        raise typer.Exit(1)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
