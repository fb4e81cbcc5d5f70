"""Intake's commands: one small function each — load, call the domain, commit."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from services.intake.db import IntakeUnitOfWork
from services.intake.domain import Project, ProjectKind, ProjectNature, ProjectNotFound
from shared.db import utcnow
from shared.idempotency import create_once


@dataclass(frozen=True)
class DeclareProject:
    jurisdiction: str
    agency: str
    title: str
    kind: ProjectKind
    amount_fen: int
    classified: bool
    by: str
    idempotency_key: str | None = None
    nature: ProjectNature = ProjectNature.NEW
    software_fen: int = 0
    packaged_software: bool = False
    simple: bool = False


# What a retry must repeat to count as the same declaration.
DECLARED = (
    "jurisdiction",
    "title",
    "kind",
    "amount_fen",
    "classified",
    "nature",
    "software_fen",
    "packaged_software",
    "simple",
)


async def declare_project(uow: IntakeUnitOfWork, cmd: DeclareProject) -> tuple[Project, bool]:
    """Declare a project; a retry with the same Idempotency-Key returns the first one (created=False)."""
    async with uow:

        async def create() -> Project:
            project = Project.declare(at=utcnow(), **asdict(cmd))
            uow.projects.add(project)
            await uow.commit()
            return project

        def same(p: Project) -> bool:
            return all(getattr(p, name) == value for name, value in asdict(cmd).items() if name in DECLARED)

        key = cmd.idempotency_key
        return await create_once(
            uow,
            key,
            earlier=lambda: uow.projects.by_idempotency_key(cmd.agency, key or ""),
            same=same,
            create=create,
        )


async def approve_project(
    uow: IntakeUnitOfWork, project_id: str, *, approved_amount_fen: int, plan_year: int
) -> Project:
    async with uow:
        project = await uow.projects.get(project_id, for_update=True)
        if project is None:
            raise ProjectNotFound(f"项目 {project_id} 不存在")
        project.approve(approved_amount_fen=approved_amount_fen, plan_year=plan_year, at=utcnow())
        await uow.commit()
        return project
