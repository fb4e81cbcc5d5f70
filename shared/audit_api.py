"""The audit log over HTTP, for auditors: entries with filters, and the chain verified.

An auditor or authority reads the entries of their own jurisdictions only. An entry is a change
of one row (entity, key); the row's jurisdiction is read from the whole row its insert or delete
entry carries: its `jurisdiction`, else the jurisdiction of its `project_id`'s project (the
project's own entries, or any row carrying both), else an expert's `pool` among the pools of the
caller's jurisdictions. Entries of rows none of these places (a row older than the log and
never deleted) are shown to admin only. The chain's verification covers the whole database and
shows positions and hashes, not entries' contents, so any auditor may run it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field
from sqlalchemy import ColumnElement, case, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import audit
from shared.audit_anchor import AnchorPublisher
from shared.audit_key import AuditKey, key_for
from shared.audit_verify import Verdict, verify
from shared.auth import Principal, Role, Scope, require
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
    anchor_n: int | None = Field(
        default=None, description="the last anchor this service published since it started: its position"
    )
    anchor_hash: str | None = None


def snapshot_options(engine: AsyncEngine) -> dict[str, Any]:
    """One consistent snapshot (REPEATABLE READ on PostgreSQL, a reader on SQLite), so that
    entries appended while a check walks neither look like a cut tail nor wait for it."""
    options: dict[str, Any] = dict(READ_ONLY)
    if engine.dialect.name == "postgresql":
        options["isolation_level"] = "REPEATABLE READ"
    return options


async def verify_database(
    engine: AsyncEngine, key: AuditKey | None = None, anchors: Mapping[int, str] | None = None
) -> Verdict:
    """verify() on one snapshot, with the engine's audit key unless given another."""
    chain_key = key or key_for(engine)
    async with engine.connect() as conn:
        await conn.execution_options(**snapshot_options(engine))
        return await conn.run_sync(lambda c: verify(c, chain_key, anchors=anchors))


def _field(name: str) -> ColumnElement[str]:
    """A column of the changed row, from the entry's after (insert) or before (delete) image."""
    log = audit.audit_log
    return func.coalesce(log.c.after[name].as_string(), log.c.before[name].as_string())


def in_scope(scope: Scope, pools: set[str]) -> ColumnElement[bool] | None:
    """Entries of rows of the scope's jurisdictions (see the module's docstring); None: every entry."""
    if scope.jurisdictions is None:
        return None
    log = audit.audit_log
    codes = sorted(scope.jurisdictions)
    whole = log.c.action.in_(("insert", "delete"))
    own = _field("jurisdiction").in_(codes)
    project_ids = select(
        func.coalesce(_field("project_id"), case((log.c.entity == "projects", _field("id"))))
    ).where(whole, own)
    rows = select(log.c.entity, log.c.key).where(
        whole, or_(own, _field("project_id").in_(project_ids), _field("pool").in_(sorted(pools)))
    )
    return tuple_(log.c.entity, log.c.key).in_(rows)


def _engine(request: Request) -> AsyncEngine:
    engine: AsyncEngine = request.app.state.runtime.engine
    return engine


class EntryFilter(BaseModel):
    """Which entries of the audit log to list (query parameters)."""

    entity: str | None = Field(default=None, max_length=64, description="表名，如 disbursements")
    key: str | None = Field(default=None, max_length=200, description="主键值（单列主键）")
    action: str | None = Field(default=None, pattern="^(insert|update|delete)$")
    since: int = Field(default=0, ge=0, le=2**62, description="只列序号大于此值的记录")


def audit_router() -> APIRouter:
    router = APIRouter(prefix="/audit", tags=["audit"])

    @router.get(
        "",
        response_model=Page[AuditEntryOut],
        summary="审计日志：每一次状态变更（操作者、时间、变更前后），按序号升序；只列本辖区的记录",
    )
    async def list_entries(
        request: Request,
        who: Annotated[Principal, require(Role.AUDITOR, Role.AUTHORITY)],
        page: PageDep,
        filters: Annotated[EntryFilter, Query()],
    ) -> Page[AuditEntryOut]:
        log = audit.audit_log
        where = [log.c.n > filters.since]
        if filters.entity is not None:
            where.append(log.c.entity == filters.entity)
        if filters.key is not None:
            where.append(log.c.key == json.dumps([filters.key], ensure_ascii=False, separators=(",", ":")))
        if filters.action is not None:
            where.append(log.c.action == filters.action)
        policy = request.app.state.policy
        scoped = in_scope(who.scope, {policy.expert_pool(j) for j in who.scope.jurisdictions or ()})
        if scoped is not None:
            where.append(scoped)
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
        summary="以审计密钥重算哈希链，并对照本服务最近发布的锚点：记录被改动、删除或截断都会被指出",
        dependencies=[require(Role.AUDITOR)],
    )
    async def verify_chain(request: Request) -> VerificationOut:
        # The last anchor this service published is one the chain must still hold.
        publisher: AnchorPublisher | None = request.app.state.runtime.anchors
        last = publisher.last if publisher is not None else None
        verdict = await verify_database(_engine(request), anchors={last.n: last.hash} if last else None)
        problem = verdict.problem
        if problem is None and publisher is not None and publisher.contradiction is not None:
            problem = publisher.contradiction
        return VerificationOut(
            intact=problem is None,
            checked=verdict.checked,
            head_n=verdict.head_n,
            head_hash=verdict.head_hash,
            problem=problem,
            at_entry=verdict.at_entry,
            anchor_n=last.n if last else None,
            anchor_hash=last.hash if last else None,
        )

    return router
