"""The audit log over HTTP, for auditors: entries with filters, and the chain verified."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import audit
from shared.auth import Role, require
from shared.db import READ_ONLY
from shared.pagination import Page, PageDep


class AuditEntryOut(BaseModel):
    n: int
    at: datetime
    actor: dict[str, Any]
    entity: str
    key: list[Any]
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    prev_hash: str
    hash: str


class VerificationOut(BaseModel):
    intact: bool
    checked: int
    head_n: int
    head_hash: str
    problem: str | None
    at_entry: int | None


async def verify_database(engine: AsyncEngine, anchor: tuple[int, str] | None = None) -> audit.Verdict:
    """audit.verify() on one consistent snapshot (REPEATABLE READ on PostgreSQL, a reader on
    SQLite), so that entries appended while it walks neither look like a cut tail nor wait for it."""
    options: dict[str, Any] = dict(READ_ONLY)
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    async with engine.connect() as conn:
        await conn.execution_options(**options)
        return await conn.run_sync(lambda c: audit.verify(c, anchor=anchor))


def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.runtime.engine
    return engine


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/audit", tags=["audit"])

    @router.get(
        "",
        response_model=Page[AuditEntryOut],
        summary="审计日志：每一次状态变更（操作者、时间、变更前后），按序号升序",
        dependencies=[require(Role.AUDITOR, Role.AUTHORITY)],
    )
    async def list_entries(
        request: Request,
        page: PageDep,
        entity: Annotated[str | None, Query(max_length=64, description="表名，如 disbursements")] = None,
        key: Annotated[str | None, Query(max_length=200, description="主键值（单列主键）")] = None,
        action: Annotated[str | None, Query(pattern="^(insert|update|delete)$")] = None,
        since: Annotated[int, Query(ge=0, le=2**62, description="只列序号大于此值的记录")] = 0,
    ) -> Page[AuditEntryOut]:
        log = audit.audit_log
        where = [log.c.n > since]
        if entity is not None:
            where.append(log.c.entity == entity)
        if key is not None:
            where.append(log.c.key == json.dumps([key], ensure_ascii=False, separators=(",", ":")))
        if action is not None:
            where.append(log.c.action == action)
        async with _engine(request).connect() as conn:
            await conn.execution_options(**READ_ONLY)
            total = await conn.scalar(select(func.count()).select_from(log).where(*where)) or 0
            rows = (
                await conn.execute(
                    select(log).where(*where).order_by(log.c.n).limit(page.limit).offset(page.offset)
                )
            ).all()
        items = [AuditEntryOut.model_validate({**r._mapping, "key": json.loads(r.key)}) for r in rows]
        return Page(items=items, total=total, limit=page.limit, offset=page.offset)

    @router.get(
        "/verification",
        response_model=VerificationOut,
        summary="校验审计日志哈希链：任何记录被改动、删除或截断都会被指出",
        dependencies=[require(Role.AUDITOR)],
    )
    async def verify_chain(request: Request) -> VerificationOut:
        verdict = await verify_database(_engine(request))
        return VerificationOut(
            intact=verdict.intact,
            checked=verdict.checked,
            head_n=verdict.head_n,
            head_hash=verdict.head_hash,
            problem=verdict.problem,
            at_entry=verdict.at_entry,
        )

    return router
