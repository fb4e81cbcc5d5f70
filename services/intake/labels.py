"""Chinese labels of intake's codes: project statuses and kinds, annual plan states."""

from __future__ import annotations

from enum import StrEnum

from services.intake.domain.kinds import ProjectKind, ProjectStatus
from shared.labels import Readable, register

# intake's read schemas take Readable from here: the tables are registered before any is serialized.
__all__ = ["PlanStatus", "Readable"]


class PlanStatus(StrEnum):
    """年度计划: ranked as a draft, then published (下达)."""

    DRAFT = "draft"
    PUBLISHED = "published"


register(
    ProjectStatus,
    {
        ProjectStatus.DRAFT: "草稿",
        ProjectStatus.DECLARED: "已申报",
        ProjectStatus.ACCEPTED: "形式审查通过",
        ProjectStatus.REJECTED: "不予受理或不予批复",
        ProjectStatus.IN_PLAN: "已列入年度计划",
        ProjectStatus.APPROVED: "已批复",
        ProjectStatus.RECORDED: "上级资金项目已报备",
        ProjectStatus.WITHDRAWN: "已撤回",
        ProjectStatus.TERMINATED: "已终止",
    },
)
register(
    ProjectKind,
    {ProjectKind.CONSTRUCTION: "建设类", ProjectKind.OPERATION: "运维类", ProjectKind.SERVICE: "服务类"},
)
register(PlanStatus, {PlanStatus.DRAFT: "排序中", PlanStatus.PUBLISHED: "已下达"})
