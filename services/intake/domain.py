"""Intake's domain: the declared project and its approval (项目申报与批复)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from services.intake.requirements import ProjectFacts
from shared.contracts import Event
from shared.contracts.intake import ProjectApproved, ProjectDeclared


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
    DECLARED = "declared"  # 已申报
    APPROVED = "approved"  # 已批复


class IntakeError(Exception):
    """Base of intake's refusals; `code` is stable, the message is for people."""

    code = "intake_error"
    title = "申报操作被拒绝"


class ProjectNotFound(IntakeError):
    code = "project_not_found"
    title = "项目不存在"


class InvalidDeclaration(IntakeError):
    code = "invalid_declaration"
    title = "申报内容不合法"


class InvalidTransition(IntakeError):
    code = "invalid_transition"
    title = "项目当前状态不允许此操作"


@dataclass(eq=False)
class Project:
    """政务信息化项目 as intake knows it."""

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: ProjectKind
    amount_fen: int
    classified: bool
    status: ProjectStatus
    declared_at: datetime
    declared_by: str
    idempotency_key: str | None = None
    nature: ProjectNature = ProjectNature.NEW
    software_fen: int = 0  # 软件开发部分估算
    packaged_software: bool = False  # 采购成品软件
    simple: bool = False  # 建设内容单一、技术方案简单 (lhasa §10)
    plan_year: int | None = None
    approved_amount_fen: int | None = None
    approved_at: datetime | None = None
    events: list[Event] = field(default_factory=list)

    def facts(self) -> ProjectFacts:
        """What the jurisdiction's material requirements look at."""
        return ProjectFacts.of(self)

    @classmethod
    def declare(
        cls,
        *,
        jurisdiction: str,
        agency: str,
        title: str,
        kind: ProjectKind,
        amount_fen: int,
        classified: bool,
        by: str,
        at: datetime,
        idempotency_key: str | None = None,
        nature: ProjectNature = ProjectNature.NEW,
        software_fen: int = 0,
        packaged_software: bool = False,
        simple: bool = False,
    ) -> Project:
        if amount_fen < 0 or not 0 <= software_fen <= amount_fen:
            raise InvalidDeclaration("软件开发部分估算不得为负，也不得超过投资估算")
        project = cls(
            id=uuid.uuid4().hex,
            jurisdiction=jurisdiction,
            agency=agency,
            title=title,
            kind=kind,
            amount_fen=amount_fen,
            classified=classified,
            status=ProjectStatus.DECLARED,
            declared_at=at,
            declared_by=by,
            idempotency_key=idempotency_key,
            nature=nature,
            software_fen=software_fen,
            packaged_software=packaged_software,
            simple=simple,
        )
        project.events.append(
            ProjectDeclared(
                project_id=project.id,
                jurisdiction=jurisdiction,
                agency=agency,
                title=title,
                kind=kind.value,
                amount_fen=amount_fen,
                classified=classified,
                nature=nature.value,
                software_fen=software_fen,
            )
        )
        return project

    def approve(self, *, approved_amount_fen: int, plan_year: int, at: datetime) -> None:
        """批复. Approving again with the same terms changes nothing (a retried request)."""
        if self.status is ProjectStatus.APPROVED:
            if (self.approved_amount_fen, self.plan_year) == (approved_amount_fen, plan_year):
                return
            raise InvalidTransition(f"项目 {self.id} 已批复，不能以不同金额或年度再次批复")
        if self.status is not ProjectStatus.DECLARED:
            raise InvalidTransition(f"项目 {self.id} 处于 {self.status} 状态，不能批复")
        self.status = ProjectStatus.APPROVED
        self.approved_amount_fen = approved_amount_fen
        self.plan_year = plan_year
        self.approved_at = at
        self.events.append(
            ProjectApproved(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                approved_amount_fen=approved_amount_fen,
                plan_year=plan_year,
            )
        )
