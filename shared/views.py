"""Read-side helpers every service's views.py uses: the caller's scope, filters, one row, one page."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import ColumnElement, Table, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from shared.auth import Principal, Scope
from shared.pagination import Page, PageParams

Schema = TypeVar("Schema", bound=BaseModel)


def visible_to(principal: Principal | Scope, table: Table) -> list[ColumnElement[bool]]:
    """Rows within the caller's scope: of its jurisdictions, and of an applicant's own agency."""
    scope = principal.scope if isinstance(principal, Principal) else principal
    where = in_jurisdictions(scope, table.c.jurisdiction)
    if scope.agency is not None:
        where.append(table.c.agency == scope.agency)
    return where


def in_jurisdictions(principal: Principal | Scope, column: Any) -> list[ColumnElement[bool]]:
    """`column` (a jurisdiction code) among the scope's jurisdictions; nothing to add for admin."""
    scope = principal.scope if isinstance(principal, Principal) else principal
    return [] if scope.jurisdictions is None else [column.in_(sorted(scope.jurisdictions))]


def filters(pairs: Iterable[tuple[Any, Any]]) -> list[ColumnElement[bool]]:
    """`column == value` for every pair whose value was given."""
    return [column == value for column, value in pairs if value is not None]


async def one(session: AsyncSession, table: Table, schema: type[Schema], *where: Any) -> Schema | None:
    row = (await session.execute(select(table).where(*where))).first()
    return schema.model_validate(row._mapping) if row else None


async def page_of(
    session: AsyncSession,
    table: Table,
    schema: type[Schema],
    page: PageParams,
    where: Sequence[Any],
    order_by: Sequence[Any],
) -> Page[Schema]:
    total = await session.scalar(select(func.count()).select_from(table).where(*where)) or 0
    rows = await session.execute(
        select(table).where(*where).order_by(*order_by).limit(page.limit).offset(page.offset)
    )
    return Page[schema](  # type: ignore[valid-type]
        items=[schema.model_validate(r._mapping) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
