"""The calendar a service's stored deadlines were last settled by, kept in its own database.

A service that was stopped while `govit calendar load` changed the notices would otherwise start
by the new calendar with due dates computed by the old one, and never move or announce them. At
start (shared.calendar_watch) it reads the settled calendar back, settles the difference as a
running service would, and records the new one; each later settlement is recorded too.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Column, Integer, MetaData, Table, select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import audit
from shared.sqltypes import UTCDateTime
from shared.statements import upsert_for
from shared.workdays import HolidayNotice, WorkingCalendar

metadata = MetaData()

#: One row: the holiday notices (year → notice) the open deadlines were last settled by.
calendar_settled = Table(
    "calendar_settled",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("notices", JSON, nullable=False),
    Column("settled_at", UTCDateTime, nullable=False),
    info={audit.SKIP_INFO_KEY: False},  # bookkeeping of the calendar, not a project's state
)


def as_json(calendar: WorkingCalendar) -> dict[str, Any]:
    return {str(year): notice.model_dump(mode="json") for year, notice in sorted(calendar.notices.items())}


def from_json(notices: dict[str, Any]) -> WorkingCalendar:
    return WorkingCalendar({int(year): HolidayNotice.model_validate(n) for year, n in notices.items()})


class SettledCalendar:
    """Reads and records the settled calendar of one service's database."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine

    async def load(self) -> WorkingCalendar | None:
        """The calendar last recorded; None before the first."""
        async with self.engine.connect() as conn:
            notices = await conn.scalar(select(calendar_settled.c.notices).where(calendar_settled.c.id == 1))
        return None if notices is None else from_json(notices)

    async def save(self, calendar: WorkingCalendar, at: datetime) -> None:
        insert = upsert_for(self.engine.dialect.name)
        values = {"notices": as_json(calendar), "settled_at": at}
        statement = insert(calendar_settled).values(id=1, **values)
        upsert = statement.on_conflict_do_update(index_elements=[calendar_settled.c.id], set_=values)
        async with self.engine.begin() as conn:
            await conn.execute(upsert)
