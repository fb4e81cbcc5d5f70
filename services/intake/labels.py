"""Chinese labels of intake's codes: project statuses and kinds, deployments, annual plan states."""

from __future__ import annotations

from enum import StrEnum

from services.intake.domain.kinds import ProjectKind, ProjectStatus
from services.intake.domain.screening import Deployment
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
register(
    Deployment,
    {
        Deployment.GOV_MACHINE_ROOM: "统筹建设的政务机房",
        Deployment.GOV_CLOUD: "政务云",
        Deployment.GOV_EXTRANET: "电子政务外网",
        Deployment.OTHER: "其他",
        Deployment.OWN_MACHINE_ROOM: "自建机房",
    },
)
