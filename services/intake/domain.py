"""Intake's domain: the declared project from draft to approval (项目申报、形式审查、计划与批复).

Every rule is asked of the jurisdiction's policy pack by the caller (handlers) and arrives
here as reasons; the aggregate keeps the state machine, records each decision with its
citations and raises the events.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from services.intake.requirements import ProjectFacts
from services.intake.screening import Deployment
from shared.contracts import Event
from shared.contracts.envelope import Citation
from shared.contracts.intake import (
    ProjectApproved,
    ProjectDeclared,
    ProjectIncludedInPlan,
    ProjectRecorded,
    ProjectRejected,
    ProjectScreened,
    ProjectTerminated,
    ProjectWithdrawn,
)
from shared.errors import DomainError
from shared.policy import Reason, citations


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
PRE_APPROVAL_STAGES = frozenset({"declaration", "demonstration", "feasibility", "preliminary_design"})


class IntakeError(DomainError):
    """Base of intake's refusals; `code` is stable, the message is for people."""

    code = "intake_error"
    title = "申报操作被拒绝"


class ProjectNotFound(IntakeError):
    code = "project_not_found"
    title = "项目不存在"


class AgencyNotFound(IntakeError):
    code = "agency_not_found"
    title = "建设单位不存在"


class AgencyNotRegistered(IntakeError):
    code = "agency_not_registered"
    title = "建设单位未在主管部门登记"


class InvalidDeclaration(IntakeError):
    code = "invalid_declaration"
    title = "申报内容不合法"


class InvalidTransition(IntakeError):
    code = "invalid_transition"
    title = "项目当前状态不允许此操作"


class DeclarationRefused(IntakeError):
    """A rule of the jurisdiction forbids this declaration; `reasons` cite the articles."""

    code = "declaration_refused"
    title = "不予申报"


class ApprovalRefused(IntakeError):
    code = "approval_refused"
    title = "不符合批复条件"


class MaterialNotAccepted(IntakeError):
    code = "material_not_accepted"
    title = "材料不予接收"


class PlanError(IntakeError):
    code = "plan_invalid"
    title = "年度计划不合法"


@dataclass(frozen=True)
class Entry:
    """One decision in a project's record: what, by whom, when, and the articles behind it."""

    action: str
    outcome: str
    by: str
    at: datetime
    note: str = ""
    reasons: tuple[Citation, ...] = ()


@dataclass
class Declaration:
    """What an agency says of its project; all of it may change while the project is a draft."""

    title: str
    kind: ProjectKind
    amount_fen: int
    classified: bool = False
    nature: ProjectNature = ProjectNature.NEW
    software_fen: int = 0
    packaged_software: bool = False
    simple: bool = False
    summary: str = ""  # 建设内容
    deployment: Deployment = Deployment.GOV_CLOUD
    deployment_explanation: str = ""
    xinchuang_compatible: bool = True
    shares_data_with_platform: bool = True
    assigned_from_above: bool = False  # 上级条线配发
    data_sharing_items: list[str] = field(default_factory=list)
    security_plan: str = ""
    off_plan: bool = False
    off_plan_reason: str = ""
    funding_source: FundingSource = FundingSource.LOCAL
    upper_approval_ref: str = ""
    predecessor_id: str | None = None
    predecessor_acceptance_ref: str = ""  # 原系统验收文号, for a system older than this record
    requested_plan_year: int | None = None

    def check(self) -> None:
        if self.amount_fen < 0 or not 0 <= self.software_fen <= self.amount_fen:
            raise InvalidDeclaration("软件开发部分估算不得为负，也不得超过投资估算")
        if self.off_plan and not self.off_plan_reason.strip():
            raise InvalidDeclaration("计划外紧急项目须说明理由（off_plan_reason）")
        if self.funding_source is FundingSource.UPPER_LEVEL and not self.upper_approval_ref.strip():
            raise InvalidDeclaration("上级资金项目须填写上级批复或资金下达文号（upper_approval_ref）")


DECLARATION_FIELDS = tuple(Declaration.__dataclass_fields__)


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
    declared_at: datetime | None
    declared_by: str
    created_at: datetime
    idempotency_key: str | None = None
    nature: ProjectNature = ProjectNature.NEW
    software_fen: int = 0
    packaged_software: bool = False
    simple: bool = False
    summary: str = ""
    deployment: Deployment = Deployment.GOV_CLOUD
    deployment_explanation: str = ""
    xinchuang_compatible: bool = True
    shares_data_with_platform: bool = True
    assigned_from_above: bool = False
    data_sharing_items: list[str] = field(default_factory=list)
    security_plan: str = ""
    off_plan: bool = False
    off_plan_reason: str = ""
    funding_source: FundingSource = FundingSource.LOCAL
    upper_approval_ref: str = ""
    predecessor_id: str | None = None
    predecessor_acceptance_ref: str = ""
    requested_plan_year: int | None = None
    plan_year: int | None = None
    review_batch: str | None = None
    notes: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    plan_rank: int | None = None
    plan_document: str | None = None
    review_stage: str | None = None
    review_verdict: str | None = None
    review_case_id: str | None = None
    reviews: dict[str, str] = field(default_factory=dict)  # stage -> latest verdict
    final_acceptance: str | None = None  # passed | failed, for later declarations (bayingolin §25)
    approval_number: str | None = None
    approved_scope: str | None = None
    approved_amount_fen: int | None = None
    approved_at: datetime | None = None
    closed_reason: str | None = None
    events: list[Event] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    # -- what the rules look at -------------------------------------------------------------
    def facts(self) -> ProjectFacts:
        return ProjectFacts.of(self)

    def record_decision(
        self, action: str, outcome: str, by: str, at: datetime, note: str = "", reasons: Any = ()
    ) -> None:
        self.entries.append(Entry(action, outcome, by, at, note, tuple(reasons)))

    def _require(self, allowed: frozenset[ProjectStatus] | set[ProjectStatus], doing: str) -> None:
        if self.status not in allowed:
            raise InvalidTransition(f"项目 {self.id} 处于 {self.status.value} 状态，不能{doing}")

    # -- draft ------------------------------------------------------------------------------
    @classmethod
    def draft(
        cls,
        *,
        jurisdiction: str,
        agency: str,
        declaration: Declaration,
        by: str,
        at: datetime,
        idempotency_key: str | None = None,
    ) -> Project:
        declaration.check()
        project = cls(
            id=uuid.uuid4().hex,
            jurisdiction=jurisdiction,
            agency=agency,
            status=ProjectStatus.DRAFT,
            declared_at=None,
            declared_by=by,
            created_at=at,
            idempotency_key=idempotency_key,
            **{name: getattr(declaration, name) for name in DECLARATION_FIELDS},
        )
        project.record_decision("draft", "created", by, at)
        return project

    def declaration(self) -> Declaration:
        return Declaration(**{name: getattr(self, name) for name in DECLARATION_FIELDS})

    def update(self, changes: dict[str, Any], *, by: str, at: datetime) -> None:
        """Change a draft; the whole result is checked before anything is kept."""
        self._require(EDITABLE, "修改申报内容（已提交的申报须撤回后重新申报）")
        merged = self.declaration()
        for name, value in changes.items():
            setattr(merged, name, value)
        merged.check()
        for name in DECLARATION_FIELDS:
            setattr(self, name, getattr(merged, name))
        self.record_decision("update", "changed", by, at, note="、".join(sorted(changes)))

    # -- submit -------------------------------------------------------------------------------
    def submit(
        self,
        *,
        by: str,
        at: datetime,
        plan_year: int,
        refusals: Sequence[Reason],
        notes: Sequence[Reason] = (),
        flags: Sequence[Reason] = (),
        review_batch: str | None = None,
        record_only: Sequence[str] = (),
    ) -> None:
        """申报. `refusals` are the rules that forbid it (nothing changes then).

        A project funded from above in a jurisdiction that only asks for it to be reported
        (`record_only` = the articles) is recorded instead of entering screening.
        """
        if self.status is not ProjectStatus.DRAFT:
            if self.status in LIVE | {ProjectStatus.RECORDED}:
                return  # a retried submit
            self._require(EDITABLE, "提交申报")
        if refusals:
            raise DeclarationRefused("；".join(r.message for r in refusals), refusals)
        self.declared_at = at
        self.plan_year = plan_year
        self.review_batch = review_batch
        self.notes = [c.model_dump(mode="json") for c in citations(notes)]
        self.flags = [c.model_dump(mode="json") for c in citations(flags)]
        if record_only:
            self.status = ProjectStatus.RECORDED
            self.record_decision("record", "recorded", by, at, note=self.upper_approval_ref)
            self.events.append(
                ProjectRecorded(
                    project_id=self.id,
                    jurisdiction=self.jurisdiction,
                    agency=self.agency,
                    title=self.title,
                    amount_fen=self.amount_fen,
                    upper_approval_ref=self.upper_approval_ref,
                    articles=tuple(record_only),
                )
            )
            return
        self.status = ProjectStatus.DECLARED
        self.record_decision("submit", "declared", by, at, reasons=citations(list(notes) + list(flags)))
        self.events.append(
            ProjectDeclared(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                title=self.title,
                kind=self.kind.value,
                amount_fen=self.amount_fen,
                classified=self.classified,
                nature=self.nature.value,
                software_fen=self.software_fen,
                plan_year=plan_year,
                off_plan=self.off_plan,
                predecessor_id=self.predecessor_id,
                notes=citations(notes),
            )
        )

    # -- screening ----------------------------------------------------------------------------
    def screen(self, *, reasons: Sequence[Reason], flags: Sequence[Reason], by: str, at: datetime) -> None:
        """形式审查: accepted, or refused with every reason; flags go to the authority either way."""
        self._require({ProjectStatus.DECLARED}, "进行形式审查")
        accepted = not reasons
        self.status = ProjectStatus.ACCEPTED if accepted else ProjectStatus.REJECTED
        self.flags = [c.model_dump(mode="json") for c in citations(flags)]
        if not accepted:
            self.closed_reason = "；".join(r.message for r in reasons)
        self.record_decision(
            "screening", "accepted" if accepted else "refused", by, at, reasons=citations([*reasons, *flags])
        )
        self.events.append(
            ProjectScreened(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                accepted=accepted,
                reasons=citations(reasons),
                flags=citations(flags),
            )
        )

    # -- annual plan --------------------------------------------------------------------------
    def include_in_plan(
        self, *, year: int, rank: int, document: str, articles: Sequence[str], by: str, at: datetime
    ) -> None:
        self._require({ProjectStatus.ACCEPTED}, "列入年度计划")
        if self.plan_year != year:
            raise PlanError(f"项目 {self.title} 申报的计划年度为 {self.plan_year}，不能列入 {year} 年度计划")
        self.status = ProjectStatus.IN_PLAN
        self.plan_rank = rank
        self.plan_document = document
        self.record_decision("plan", "included", by, at, note=f"{year} 年度计划第 {rank} 位（{document}）")
        self.events.append(
            ProjectIncludedInPlan(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                plan_year=year,
                rank=rank,
                plan_document=document,
                articles=tuple(articles),
            )
        )

    # -- review ---------------------------------------------------------------------------------
    def record_review(self, *, case_id: str, stage: str, verdict: str, at: datetime) -> bool:
        """The review service's conclusion; only stages before approval matter here."""
        if stage not in PRE_APPROVAL_STAGES or self.status not in LIVE - {ProjectStatus.APPROVED}:
            return False
        self.review_case_id, self.review_stage, self.review_verdict = case_id, stage, verdict
        self.reviews = {**self.reviews, stage: verdict}
        self.record_decision("review", verdict, "review", at, note=f"{stage} 评审案件 {case_id}")
        return True

    def review_state(self, stages: Sequence[str]) -> str:
        """pass, revise, fail or none over the stages whose pass allows approval."""
        verdicts = [v for s, v in self.reviews.items() if s in stages]
        for worst in ("fail", "revise"):
            if worst in verdicts:
                return worst
        return "pass" if verdicts else "none"

    # -- approval -------------------------------------------------------------------------------
    def approve(
        self,
        *,
        approval_number: str,
        approved_amount_fen: int,
        approved_scope: str,
        refusals: Sequence[Reason],
        articles: Sequence[str],
        by: str,
        at: datetime,
    ) -> None:
        """批复. Approving again with the same terms changes nothing (a retried request)."""
        if self.status is ProjectStatus.APPROVED:
            if (self.approval_number, self.approved_amount_fen) == (approval_number, approved_amount_fen):
                return
            raise InvalidTransition(
                f"项目 {self.id} 已批复（{self.approval_number}），不能以不同文号或金额再次批复"
            )
        self._require({ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN}, "批复（须先通过形式审查）")
        if refusals:
            raise ApprovalRefused("；".join(r.message for r in refusals), refusals)
        self._approve(approval_number, approved_amount_fen, approved_scope, articles, by, at)

    def approve_with_plan(self, *, document: str, articles: Sequence[str], by: str, at: datetime) -> None:
        """运维类项目计划批准后直接实施 (shexian §20(三)): the plan, at this rank, is its approval."""
        number = f"{document}第{self.plan_rank}项"
        self._approve(number, self.amount_fen, self.summary or self.title, articles, by, at)

    def _approve(
        self, number: str, amount: int, scope: str, articles: Sequence[str], by: str, at: datetime
    ) -> None:
        assert self.plan_year is not None
        self.status = ProjectStatus.APPROVED
        self.approval_number = number
        self.approved_amount_fen = amount
        self.approved_scope = scope
        self.approved_at = at
        self.record_decision("approval", "approved", by, at, note=f"{number}，批复金额 {amount} 分")
        self.events.append(
            ProjectApproved(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                approved_amount_fen=amount,
                plan_year=self.plan_year,
                approval_number=number,
                approved_scope=scope,
                off_plan=self.off_plan,
                articles=tuple(articles),
            )
        )

    def reject(self, *, reason: str, by: str, at: datetime) -> None:
        """不予批复."""
        if self.status is ProjectStatus.REJECTED:
            return
        self._require({ProjectStatus.DECLARED, ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN}, "不予批复")
        self.status = ProjectStatus.REJECTED
        self.closed_reason = reason
        self.record_decision("rejection", "rejected", by, at, note=reason)
        self.events.append(ProjectRejected(project_id=self.id, jurisdiction=self.jurisdiction, reason=reason))

    # -- ends -----------------------------------------------------------------------------------
    def withdraw(self, *, reason: str, by: str, at: datetime) -> None:
        if self.status is ProjectStatus.WITHDRAWN:
            return
        self._require(WITHDRAWABLE, "撤回（已批复的项目须走终止程序）")
        announced = self.status is not ProjectStatus.DRAFT
        self.status = ProjectStatus.WITHDRAWN
        self.closed_reason = reason
        self.record_decision("withdrawal", "withdrawn", by, at, note=reason)
        if announced:
            self.events.append(
                ProjectWithdrawn(project_id=self.id, jurisdiction=self.jurisdiction, reason=reason)
            )

    def terminate(self, *, reason: str, articles: Sequence[str], by: str, at: datetime) -> bool:
        """终止 — from procurement's deadline events; projects not yet under way are left alone."""
        if self.status not in {ProjectStatus.IN_PLAN, ProjectStatus.APPROVED}:
            return False
        self.status = ProjectStatus.TERMINATED
        self.closed_reason = reason
        self.record_decision("termination", "terminated", by, at, note=reason)
        self.events.append(
            ProjectTerminated(
                project_id=self.id, jurisdiction=self.jurisdiction, reason=reason, articles=tuple(articles)
            )
        )
        return True


@dataclass(eq=False)
class Agency:
    """建设单位 registered by the authority: its level decides what it may declare (shexian §13)."""

    id: str
    jurisdiction: str
    name: str
    level: str
    parent: str | None
    created_at: datetime
    duties_unmet: bool = False  # 未完成迁移整合或数据共享义务 (zhonglou §8)
    duties_note: str = ""


@dataclass(frozen=True)
class Material:
    """一份申报材料: a stored upload and the material type it is declared as."""

    id: str
    project_id: str
    material: str
    filename: str
    content_type: str
    size: int
    sha256: str
    uploaded_by: str
    uploaded_at: datetime


@dataclass(frozen=True)
class Signoff:
    """A recorded approval by another body (上级审核、政府审定…) with its document."""

    project_id: str
    signoff: str
    document_ref: str
    recorded_by: str
    recorded_at: datetime


@dataclass(eq=False)
class Bar:
    """A consequence from a later stage that bars an agency's new declarations while it lasts."""

    id: str
    jurisdiction: str
    agency: str
    ground: str
    source_project_id: str
    since: datetime
    detail: str = ""
    lifted_at: datetime | None = None
    effective_on: date | None = None  # bars after a missed rectification deadline start the day after
