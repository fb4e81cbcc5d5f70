"""The declared project from draft to approval (项目申报、形式审查、计划与批复): the state machine,
each decision recorded with its citations, the events; the rules arrive as reasons from the
decisions beside it (submission, screening, approval, plans), which ask the pack."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from services.intake.domain import errors as e
from services.intake.domain.declaration import DECLARATION_FIELDS, Declaration
from services.intake.domain.facilities import BuildProfile
from services.intake.domain.kinds import (
    EDITABLE,
    LIVE,
    FundingSource,
    ProjectKind,
    ProjectNature,
    ProjectStatus,
)
from services.intake.domain.records import ApprovalTerms, Entry, Judgement
from services.intake.domain.requirements import ProjectFacts
from services.intake.domain.screening import Deployment
from shared.contracts import Event
from shared.contracts.intake import (
    ProjectApproved,
    ProjectDeclared,
    ProjectIncludedInPlan,
    ProjectRecorded,
    ProjectScreened,
)
from shared.policy import Reason, citations


@dataclass(eq=False)
class Project(BuildProfile):
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
    termination: dict[str, Any] | None = None  # 终止建议 and the decision on it (domain.endings)
    termination_state: str | None = None  # pending, or the decision: terminate | extend | keep
    oversight: dict[str, Any] | None = None  # 限期整改 orders and their measures (domain.oversight)
    design_approval: dict[str, Any] | None = None  # 初步设计批复 awaited or given (domain.design)
    evaluation: dict[str, Any] | None = None  # the latest evaluation (domain.evaluations)
    events: list[Event] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)

    def facts(self) -> ProjectFacts:
        return ProjectFacts.of(self)

    def record_decision(
        self, action: str, outcome: str, by: str, at: datetime, note: str = "", reasons: Any = ()
    ) -> None:
        self.entries.append(Entry(action, outcome, by, at, note, tuple(reasons)))

    def hears(self, event: Event) -> None:
        """An event about this project speaks for its jurisdiction, or it is not believed."""
        if event.jurisdiction != self.jurisdiction:
            said = f"{event.type} 称项目 {self.id} 属于 {event.jurisdiction}"
            raise e.WrongJurisdiction(f"{said}，而该项目属于 {self.jurisdiction}")

    def require(self, allowed: frozenset[ProjectStatus] | set[ProjectStatus], doing: str) -> None:
        if self.status not in allowed:
            raise e.InvalidTransition(f"项目 {self.id} 处于 {self.status.value} 状态，不能{doing}")

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
        self.require(EDITABLE, "修改申报内容（已提交的申报须撤回后重新申报）")
        merged = self.declaration()
        for name, value in changes.items():
            setattr(merged, name, value)
        merged.check()
        for name in DECLARATION_FIELDS:
            setattr(self, name, getattr(merged, name))
        self.record_decision("update", "changed", by, at, note="、".join(sorted(changes)))

    def submit(self, judged: Judgement, *, by: str, at: datetime) -> None:
        """申报. `judged.refusals` are the rules that forbid it (nothing changes then). A project
        funded from above in a jurisdiction that only asks for it to be reported
        (`judged.record_only` = the articles) is recorded instead of entering screening."""
        if self.status is not ProjectStatus.DRAFT:
            if self.status in LIVE | {ProjectStatus.RECORDED}:
                return  # a retried submit
            self.require(EDITABLE, "提交申报")
        if judged.refusals:
            raise e.DeclarationRefused("；".join(r.message for r in judged.refusals), judged.refusals)
        notes, flags, record_only = judged.notes, judged.flags, judged.record_only
        self.declared_at = at
        self.plan_year = judged.plan_year
        self.review_batch = judged.review_batch
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
                    kind=self.kind.value,
                    software_fen=self.software_fen,
                    classified=self.classified,
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
                plan_year=judged.plan_year,
                off_plan=self.off_plan,
                predecessor_id=self.predecessor_id,
                notes=citations(notes),
            )
        )

    def screen(self, *, reasons: Sequence[Reason], flags: Sequence[Reason], by: str, at: datetime) -> None:
        """形式审查: accepted, or refused with every reason; flags go to the authority either way."""
        self.require({ProjectStatus.DECLARED}, "进行形式审查")
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
                kind=self.kind.value,
                reasons=citations(reasons),
                flags=citations(flags),
            )
        )

    def include_in_plan(
        self, *, year: int, rank: int, document: str, articles: Sequence[str], by: str, at: datetime
    ) -> None:
        self.require({ProjectStatus.ACCEPTED}, "列入年度计划")
        if self.plan_year != year:
            raise e.PlanError(f"项目 {self.title} 申报年度为 {self.plan_year}，不能列入 {year} 年度计划")
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

    def approve(
        self,
        terms: ApprovalTerms,
        refusals: Sequence[Reason],
        articles: Sequence[str],
        *,
        by: str,
        at: datetime,
    ) -> None:
        """批复. Approving again with the same terms changes nothing (a retried request)."""
        if self.status is ProjectStatus.APPROVED:
            if (self.approval_number, self.approved_amount_fen) == (terms.number, terms.amount_fen):
                return
            raise e.InvalidTransition(
                f"项目 {self.id} 已批复（{self.approval_number}），不能以不同文号或金额再次批复"
            )
        self.require({ProjectStatus.ACCEPTED, ProjectStatus.IN_PLAN}, "批复（须先通过形式审查）")
        if refusals:
            raise e.ApprovalRefused("；".join(r.message for r in refusals), refusals)
        self._approve(terms, articles, by, at)

    def approve_with_plan(self, *, document: str, articles: Sequence[str], by: str, at: datetime) -> None:
        """运维类项目计划批准后直接实施 (shexian §20(三)): the plan, at this rank, is its approval."""
        terms = ApprovalTerms(f"{document}第{self.plan_rank}项", self.amount_fen, self.summary or self.title)
        self._approve(terms, articles, by, at)

    def _approve(self, terms: ApprovalTerms, articles: Sequence[str], by: str, at: datetime) -> None:
        assert self.plan_year is not None
        number, amount, scope = terms.number, terms.amount_fen, terms.scope
        self.status, self.approval_number, self.approved_scope = ProjectStatus.APPROVED, number, scope
        self.approved_amount_fen, self.approved_at = amount, at
        self.design_approval = {"required": True} if terms.design_required else None
        self.record_decision("approval", "approved", by, at, note=f"{number}，批复金额 {amount} 分")
        self.events.append(
            ProjectApproved(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                approved_amount_fen=amount,
                plan_year=self.plan_year,
                approval_number=number,
                approved_scope=scope,
                off_plan=self.off_plan,
                articles=tuple(articles),
                design_approval_required=terms.design_required,
            )
        )
