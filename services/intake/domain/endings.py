"""How a project's intake ends before or after approval: 不予批复, withdrawal, termination."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.intake.domain.kinds import WITHDRAWABLE, ProjectStatus
from services.intake.domain.projects import Project
from shared.contracts.intake import ProjectRejected, ProjectTerminated, ProjectWithdrawn


def reject(project: Project, *, reason: str, by: str, at: datetime) -> None:
    """不予批复."""
    if project.status is ProjectStatus.REJECTED:
        return
    project.require({ProjectStatus.DECLARED, ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN}, "不予批复")
    project.status = ProjectStatus.REJECTED
    project.closed_reason = reason
    project.record_decision("rejection", "rejected", by, at, note=reason)
    project.events.append(
        ProjectRejected(project_id=project.id, jurisdiction=project.jurisdiction, reason=reason)
    )


def withdraw(project: Project, *, reason: str, by: str, at: datetime) -> None:
    if project.status is ProjectStatus.WITHDRAWN:
        return
    project.require(WITHDRAWABLE, "撤回（已批复的项目须走终止程序）")
    announced = project.status is not ProjectStatus.DRAFT
    project.status = ProjectStatus.WITHDRAWN
    project.closed_reason = reason
    project.record_decision("withdrawal", "withdrawn", by, at, note=reason)
    if announced:
        project.events.append(
            ProjectWithdrawn(project_id=project.id, jurisdiction=project.jurisdiction, reason=reason)
        )


def terminate(project: Project, *, reason: str, articles: Sequence[str], by: str, at: datetime) -> bool:
    """终止 — from procurement's deadline events; projects not yet under way are left alone."""
    if project.status not in {ProjectStatus.IN_PLAN, ProjectStatus.APPROVED}:
        return False
    project.status = ProjectStatus.TERMINATED
    project.closed_reason = reason
    project.record_decision("termination", "terminated", by, at, note=reason)
    project.events.append(
        ProjectTerminated(
            project_id=project.id, jurisdiction=project.jurisdiction, reason=reason, articles=tuple(articles)
        )
    )
    return True
