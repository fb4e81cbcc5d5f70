"""The HTTP write path's baseline: a bare FastAPI endpoint inserting one row, with the services'
engine and settings (shared.engine: SQLite's pragmas and write queue, or PostgreSQL) and uvicorn
run as the services run it. `python -m bench.bare_api PORT DATABASE_URL`."""

from __future__ import annotations

import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel, Field
from sqlalchemy import BigInteger, Column, DateTime, MetaData, String, Table, insert

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


def create_app(url: str) -> FastAPI:
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
            await conn.execute(insert(rows), {**row.model_dump(), "id": key, "created_at": datetime.now(UTC)})
        return {"id": key}

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


if __name__ == "__main__":
    port, url = int(sys.argv[1]), sys.argv[2]
    uvicorn.run(create_app(url), host="127.0.0.1", port=port, log_level="warning", proxy_headers=True)
