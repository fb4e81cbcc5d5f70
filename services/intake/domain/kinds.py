"""What intake's projects are: kinds, natures, statuses and funding sources, and which statuses
allow what."""

from __future__ import annotations

from enum import StrEnum


class ProjectKind(StrEnum):
    CONSTRUCTION = "construction"  # 建设类
    OPERATION = "operation"  # 运维类
    SERVICE = "service"  # 服务类


class ProjectNature(StrEnum):
    NEW = "new"  # 新建
    CONTINUED = "continued"  # 续建
    RENOVATION = "renovation"  # 改建
    EXPANSION = "expansion"  # 扩建
    UPGRADE = "upgrade"  # 升级


class ProjectStatus(StrEnum):
    DRAFT = "draft"  # 草稿
    DECLARED = "declared"  # 已申报
    ACCEPTED = "accepted"  # 形式审查通过
    REJECTED = "rejected"  # 不予受理 / 不予批复
    IN_PLAN = "in_plan"  # 已列入年度计划
    APPROVED = "approved"  # 已批复
    RECORDED = "recorded"  # 上级资金项目已报备
    WITHDRAWN = "withdrawn"  # 已撤回
    TERMINATED = "terminated"  # 已终止


class FundingSource(StrEnum):
    LOCAL = "local"  # 本级财政
    UPPER_LEVEL = "upper_level"  # 国家、省、市统筹安排并拨付


# A declaration's content may change only while it is a draft; materials until approval.
EDITABLE = frozenset({ProjectStatus.DRAFT})
OPEN_FOR_MATERIALS = frozenset(
    {ProjectStatus.DRAFT, ProjectStatus.DECLARED, ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN}
)
WITHDRAWABLE = OPEN_FOR_MATERIALS
# Declarations that count as made (lhasa §7, shexian §12) once submitted and not withdrawn or refused.
LIVE = frozenset(
    {ProjectStatus.DECLARED, ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN, ProjectStatus.APPROVED}
)
ADMITTED = frozenset({ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN, ProjectStatus.APPROVED})
# Review stages whose pass opens the way to approval (论证、可研、初步设计).
PRE_APPROVAL_STAGES = frozenset(
    {"declaration", "om_declaration", "demonstration", "feasibility", "preliminary_design"}
)
