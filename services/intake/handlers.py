"""Intake's commands: one small function each — load, call the domain, commit."""

from __future__ import annotations

from dataclasses import dataclass

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


async def declare_project(uow: IntakeUnitOfWork, cmd: DeclareProject) -> tuple[Project, bool]:
    """Declare a project; a retry with the same Idempotency-Key returns the first one (created=False)."""
    async with uow:

        async def create() -> Project:
            project = Project.declare(
                jurisdiction=cmd.jurisdiction,
                agency=cmd.agency,
                title=cmd.title,
                kind=cmd.kind,
                amount_fen=cmd.amount_fen,
                classified=cmd.classified,
                by=cmd.by,
                at=utcnow(),
                idempotency_key=cmd.idempotency_key,
                nature=cmd.nature,
                software_fen=cmd.software_fen,
                packaged_software=cmd.packaged_software,
                simple=cmd.simple,
            )
            uow.projects.add(project)
            await uow.commit()
            return project

        def same(p: Project) -> bool:
            declared = (p.jurisdiction, p.title, p.kind, p.amount_fen, p.classified, p.nature, p.software_fen)
            wanted = (
                cmd.jurisdiction,
                cmd.title,
                cmd.kind,
                cmd.amount_fen,
                cmd.classified,
                cmd.nature,
                cmd.software_fen,
            )
            return declared == wanted

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
