"""Intake's repositories besides the project's: agencies, bars on agencies, annual plans."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.domain import Agency, Bar
from services.intake.domain.plans import PlanState
from services.intake.tables import agencies, bars, plan_entries, plans, projects

_NAMED = select(Agency).where(
    agencies.c.jurisdiction == bindparam("jurisdiction"), agencies.c.name == bindparam("name")
)
_NAMED_FOR_UPDATE = _NAMED.with_for_update()


class AgencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, agency: Agency) -> None:
        self.session.add(agency)

    async def get(self, agency_id: str) -> Agency | None:
        return await self.session.get(Agency, agency_id, with_for_update=True)

    async def anywhere(self, name: str) -> Agency | None:
        found: Agency | None = await self.session.scalar(select(Agency).where(agencies.c.name == name))
        return found

    async def named(self, jurisdiction: str, name: str, *, for_update: bool = False) -> Agency | None:
        query = _NAMED_FOR_UPDATE if for_update else _NAMED
        found: Agency | None = await self.session.scalar(query, {"jurisdiction": jurisdiction, "name": name})
        return found


class BarRepository:
    """Bars on agencies, kept from acceptance's events (one open bar per project and ground)."""

    def __init__(self, session: AsyncSession, read_ahead: dict[Any, Any] | None = None) -> None:
        self.session = session
        self._read = {} if read_ahead is None else read_ahead  # the unit's batch reads (UnitOfWork.preload)

    async def active(self, jurisdiction: str, agency: str) -> list[Bar]:
        rows = await self.session.execute(
            select(bars).where(
                bars.c.jurisdiction == jurisdiction, bars.c.agency == agency, bars.c.lifted_at.is_(None)
            )
        )
        return [Bar(**r._mapping) for r in rows]

    async def preload(self, project_ids: Sequence[str]) -> None:
        """The open bars of a consumer's batch of projects, read at once: impose and lift then know
        them for these projects without a statement."""
        wanted, read = sorted(set(project_ids)), self._read
        if not wanted:
            return
        for project_id in wanted:
            read[(_OPEN_BARS, project_id)] = {}
        for bar_id, project_id, ground in await self.session.execute(_OPEN_BARS_OF, {"projects": wanted}):
            read[(_OPEN_BARS, project_id)][ground] = bar_id

    async def impose(self, bar: Bar) -> None:
        """The bar, unless the project already has one open on that ground (then its detail and
        start are brought up to date)."""
        read: dict[str, str] | None = self._read.get((_OPEN_BARS, bar.source_project_id))
        if read is not None:
            open_bar = read.get(bar.ground)
        else:
            open_bar = await self.session.scalar(
                select(bars.c.id).where(
                    bars.c.source_project_id == bar.source_project_id,
                    bars.c.ground == bar.ground,
                    bars.c.lifted_at.is_(None),
                )
            )
        if open_bar is None:
            row = {
                "id": bar.id,
                "jurisdiction": bar.jurisdiction,
                "agency": bar.agency,
                "ground": bar.ground,
                "source_project_id": bar.source_project_id,
                "since": bar.since,
                "detail": bar.detail,
                "effective_on": bar.effective_on,
            }
            await self.session.execute(_INSERT_BAR, row)  # built once: its row as parameters
            if read is not None:
                read[bar.ground] = bar.id
        else:
            await self.session.execute(
                update(bars)
                .where(bars.c.id == open_bar)
                .values(detail=bar.detail, effective_on=bar.effective_on)
            )

    async def lift(self, *, project_id: str, ground: str, at: datetime) -> None:
        read: dict[str, str] | None = self._read.get((_OPEN_BARS, project_id))
        if read is not None and ground not in read:
            return  # none open on that ground
        await self.session.execute(
            update(bars)
            .where(
                bars.c.source_project_id == project_id, bars.c.ground == ground, bars.c.lifted_at.is_(None)
            )
            .values(lifted_at=at)
        )
        if read is not None:
            del read[ground]


_INSERT_BAR = bars.insert()
# a consumer's batch: the open bars of its projects at once, kept in its read_ahead under this tag
_OPEN_BARS = "open bars"
_OPEN_BARS_OF = select(bars.c.id, bars.c.source_project_id, bars.c.ground).where(
    bars.c.source_project_id.in_(bindparam("projects", expanding=True)), bars.c.lifted_at.is_(None)
)


class PlanRepository:
    """Annual plans and their ranked entries."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _one(self, jurisdiction: str, year: int) -> Any:
        return (plans.c.jurisdiction == jurisdiction) & (plans.c.year == year)

    async def state(self, jurisdiction: str, year: int) -> PlanState | None:
        """The plan, locked: ranking and publication of one plan do not interleave."""
        query = plans.select().where(self._one(jurisdiction, year)).with_for_update()
        row = (await self.session.execute(query)).first()
        if row is None:
            return None
        return PlanState(jurisdiction, year, published=row.status == "published", document=row.document)

    async def issued(self, jurisdiction: str, year: int) -> dict[str, str]:
        """The plan's entries already published: project id -> the document that included it."""
        rows = await self.session.execute(
            select(plan_entries.c.project_id, projects.c.plan_document)
            .join(projects, projects.c.id == plan_entries.c.project_id)
            .where(
                plan_entries.c.jurisdiction == jurisdiction,
                plan_entries.c.year == year,
                projects.c.plan_document.is_not(None),
            )
        )
        return {project_id: document for project_id, document in rows}

    async def rank(self, plan: PlanState, exists: bool, ranking: list[str], at: datetime) -> None:
        """Replace the batch not yet published: published entries keep ranks 1..kept."""
        j, year = plan.jurisdiction, plan.year
        kept = len(await self.issued(j, year)) if plan.published else 0
        where = (
            (plan_entries.c.jurisdiction == j) & (plan_entries.c.year == year) & (plan_entries.c.rank > kept)
        )
        await self.session.execute(plan_entries.delete().where(where))
        if exists:
            await self.session.execute(plans.update().where(self._one(j, year)).values(updated_at=at))
        else:
            await self.session.execute(
                plans.insert().values(jurisdiction=j, year=year, status="draft", updated_at=at)
            )
        if ranking:
            await self.session.execute(
                plan_entries.insert(),
                [
                    {"jurisdiction": j, "year": year, "rank": kept + i + 1, "project_id": p}
                    for i, p in enumerate(ranking)
                ],
            )

    async def ranked(self, jurisdiction: str, year: int) -> list[tuple[int, str]]:
        """(rank, project id) of every entry, in rank order."""
        rows = await self.session.execute(
            select(plan_entries.c.rank, plan_entries.c.project_id)
            .where(plan_entries.c.jurisdiction == jurisdiction, plan_entries.c.year == year)
            .order_by(plan_entries.c.rank)
        )
        return [(int(rank), str(project_id)) for rank, project_id in rows]

    async def published(self, plan: PlanState, first: dict[str, Any], at: datetime) -> None:
        """Mark it published; `first` (document, when, by) only at its first publication."""
        await self.session.execute(
            plans.update()
            .where(self._one(plan.jurisdiction, plan.year))
            .values(status="published", updated_at=at, **first)
        )
