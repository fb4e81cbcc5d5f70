"""Intake's unit of work and its project repository (tables in tables.py, the other
repositories in repositories.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict

from sqlalchemy import func, select

from services.intake.domain import LIVE, Material, Project, ProjectStatus, Signoff
from services.intake.repositories import AgencyRepository, BarRepository, PlanRepository
from services.intake.tables import decisions, materials, projects, signoffs
from shared.db import AggregateRepository, UnitOfWork


class ProjectRepository(AggregateRepository[Project]):
    model = Project
    locks = False

    async def by_idempotency_key(self, agency: str, key: str) -> Project | None:
        found: Project | None = await self.session.scalar(
            select(Project).where(projects.c.agency == agency, projects.c.idempotency_key == key)
        )
        return found

    async def by_approval_number(self, jurisdiction: str, number: str) -> Project | None:
        found: Project | None = await self.session.scalar(
            select(Project).where(
                projects.c.jurisdiction == jurisdiction, projects.c.approval_number == number
            )
        )
        return found

    async def siblings(self, project: Project, statuses: frozenset[ProjectStatus] = LIVE) -> list[Project]:
        """The agency's other declarations for the same plan year (lhasa §7, shexian §12)."""
        rows = await self.session.scalars(
            select(Project).where(
                projects.c.jurisdiction == project.jurisdiction,
                projects.c.agency == project.agency,
                projects.c.plan_year == project.plan_year,
                projects.c.status.in_(list(statuses)),
                projects.c.id != project.id,
            )
        )
        return list(rows)

    async def evaluated(self, jurisdiction: str, agency: str) -> list[Project]:
        """The agency's projects with an evaluation on file (zhonglou §20, shexian §50)."""
        rows = await self.session.scalars(
            select(Project).where(
                projects.c.jurisdiction == jurisdiction,
                projects.c.agency == agency,
                projects.c.evaluation.is_not(None),
            )
        )
        return list(rows)

    async def for_plan(self, jurisdiction: str, ids: Sequence[str]) -> dict[str, Project]:
        rows = await self.session.scalars(
            select(Project).where(projects.c.jurisdiction == jurisdiction, projects.c.id.in_(list(ids)))
        )
        return {p.id: p for p in self.tracked(rows)}

    # -- materials and sign-offs ----------------------------------------------------------------
    async def add_material(self, material: Material) -> None:
        await self.session.execute(materials.insert().values(**asdict(material)))

    async def material_counts(self, project_id: str) -> dict[str, int]:
        rows = await self.session.execute(
            select(materials.c.material, func.count())
            .where(materials.c.project_id == project_id)
            .group_by(materials.c.material)
        )
        return {material: int(count) for material, count in rows}

    async def signoff(self, project_id: str, kind: str) -> Signoff | None:
        row = (
            await self.session.execute(
                select(signoffs).where(signoffs.c.project_id == project_id, signoffs.c.signoff == kind)
            )
        ).first()
        return Signoff(**row._mapping) if row else None

    async def add_signoff(self, signoff: Signoff) -> None:
        await self.session.execute(signoffs.insert().values(**asdict(signoff)))

    async def signoffs_of(self, project_id: str) -> set[str]:
        rows = await self.session.scalars(
            select(signoffs.c.signoff).where(signoffs.c.project_id == project_id)
        )
        return set(rows)


class IntakeUnitOfWork(UnitOfWork):
    read_with_batch = ("projects", "bars")  # a consumer's batch reads its projects and their bars at once
    projects: ProjectRepository
    agencies: AgencyRepository
    bars: BarRepository
    plans: PlanRepository

    async def __aenter__(self) -> IntakeUnitOfWork:
        await super().__aenter__()
        self.projects = ProjectRepository(self.session, self)
        self.agencies = AgencyRepository(self.session)
        self.bars = BarRepository(self.session, self.read_ahead)
        self.plans = PlanRepository(self.session)
        return self

    async def commit(self) -> None:
        # Each project's decisions are kept with the state they explain, in the same transaction.
        rows = []
        await self.session.flush()
        for aggregate in self._tracked:
            if isinstance(aggregate, Project):
                for entry in aggregate.entries:
                    rows.append(
                        {
                            "project_id": aggregate.id,
                            "action": entry.action,
                            "outcome": entry.outcome,
                            "by": entry.by,
                            "at": entry.at,
                            "note": entry.note,
                            "reasons": [c.model_dump(mode="json") for c in entry.reasons],
                        }
                    )
                aggregate.entries.clear()
        if rows:
            await self.session.execute(decisions.insert(), rows)
        await super().commit()
