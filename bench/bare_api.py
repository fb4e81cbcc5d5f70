"""The HTTP write path's baseline: a bare FastAPI endpoint inserting one row, with the services'
engine and settings (shared.engine: SQLite's pragmas and write queue, or PostgreSQL) and uvicorn
run as the services run it. `python -m bench.bare_api PORT DATABASE_URL [READS WRITES]`: with
READS and WRITES, each request runs that many reads by key and inserts (the row itself among them)
in its one transaction through SQLAlchemy Core, and nothing else: a service request's statements
without the service."""

from __future__ import annotations

import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, bindparam, insert, select

from shared.engine import create_engine

metadata = MetaData()
rows = Table(
    "rows",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


class RowIn(BaseModel):
    title: str = Field(min_length=2, max_length=200)
    amount_fen: int = Field(gt=0)


_READ = select(rows).where(rows.c.id == bindparam("id"))
_INSERT = insert(rows)


def create_app(url: str, reads: int = 0, writes: int = 1) -> FastAPI:
    engine = create_engine(url)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        async with engine.begin() as conn:
            await conn.run_sync(metadata.create_all)
        yield
        await engine.dispose()

    app = FastAPI(lifespan=lifespan)

    @app.post("/rows", status_code=201)
    async def add(row: RowIn) -> dict[str, str]:
        key = str(uuid.uuid4())
        async with engine.begin() as conn:
            for _ in range(reads):
                (await conn.execute(_READ, {"id": key})).all()
            for i in range(writes):
                written = key if i == 0 else str(uuid.uuid4())
                values = {**row.model_dump(), "id": written, "created_at": datetime.now(UTC)}
                await conn.execute(_INSERT, values)
        return {"id": key}

    @app.get("/healthz")
    async def healthz() -> dict[str, str | int]:
        return {"status": "ok", "service": "bare", "pid": os.getpid()}

    return app


if __name__ == "__main__":
    port, url, *counts = sys.argv[1:]
    app = create_app(url, *(int(c) for c in counts))
    uvicorn.run(app, host="127.0.0.1", port=int(port), log_level="warning", proxy_headers=True)
