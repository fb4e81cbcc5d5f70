"""Procurement's domain: a project from approval to completed construction.

The project (as procurement sees it) carries its requirements review, procurement results,
reports and construction dates; contracts (with their payment milestones) and change requests
are records of their own. Every refusal names the rule's article; the rules are asked of the
pack by services.procurement.rules and the handlers.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from shared.contracts import Event
from shared.contracts.envelope import Citation
from shared.contracts.procurement import (
    ChangeRecorded,
    ChangeReviewRequested,
    ConstructionCompleted,
    ConstructionStarted,
    ContractFiled,
    Milestone,
    ProgressReported,
    RequirementsReviewed,
    TenderRecorded,
)
from shared.errors import DomainError
from shared.policy import Reason


class ProcurementError(DomainError):
    """Base of procurement's refusals; `code` is stable, the message is for people."""

    code = "procurement_error"
    title = "采购与建设操作被拒绝"


class ProjectNotFound(ProcurementError):
    code = "project_not_found"
    title = "项目不存在"


class ChangeNotFound(ProcurementError):
    code = "change_not_found"
    title = "变更申请不存在"


class RuleViolation(ProcurementError):
    code = "procurement_rule_violation"
    title = "不符合项目管理办法的规定"


class InvalidState(ProcurementError):
    code = "invalid_state"
    title = "项目当前状态不允许此操作"


class Status(StrEnum):
    DECLARED = "declared"  # 已申报，未批复
    APPROVED = "approved"  # 已批复（或上级资金项目已报备）
    CONTRACTED = "contracted"  # 已签订施工合同
    UNDER_CONSTRUCTION = "under_construction"  # 已开工
    COMPLETED = "completed"  # 已竣工
    CLOSED = "closed"  # 不予批复、撤回或终止


class Role(StrEnum):
    CONSTRUCTION = "construction"  # 承建
    SUPERVISION = "supervision"  # 监理


class ChangeState(StrEnum):
    FILED = "filed"  # 已备案（建设单位自行调整）
    PENDING = "pending"  # 待审批
    APPROVED = "approved"
    REJECTED = "rejected"


def split_milestones(amount_fen: int, shares: Sequence[tuple[str, str, Decimal]]) -> list[dict[str, Any]]:
    """Each milestone's amount in whole fen; the last takes what rounding leaves, so they sum exactly."""
    if sum((s for _, _, s in shares), Decimal(0)) != 100:
        raise ProcurementError("付款节点比例合计须为100%")
    out: list[dict[str, Any]] = []
    left = amount_fen
    for i, (name, stage, share) in enumerate(shares):
        amount = left if i == len(shares) - 1 else int(Decimal(amount_fen) * share / 100)
        left -= amount
        out.append({"name": name, "stage": stage, "share_percent": str(share), "amount_fen": amount})
    return out


@dataclass(eq=False)
class Contract:
    """备案的合同: construction (承建) or supervision (监理), with its payment milestones."""

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    role: Role
    counterparty: str
    credit_code: str
    amount_fen: int
    signed_on: dt.date
    starts_on: dt.date | None
    ends_on: dt.date | None
    milestones: list[dict[str, Any]]
    ip_to_government: bool
    filed_on: dt.date
    filing_due_on: dt.date | None
    late: bool
    filed_by: str
    filed_at: dt.datetime
    notes: list[dict[str, Any]] = field(default_factory=list)
    idempotency_key: str | None = None


@dataclass(eq=False)
class Change:
    """一项变更申请 with its effect on scope and budget, its path and the decisions on it."""

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    description: str
    scope_effect: str
    total_delta_fen: int
    adjustment_fen: int
    goal_changed: bool
    ground: str | None
    path: str
    approvers: list[str]
    decisions: dict[str, Any]
    review: str | None  # requested | pass | revise | fail — the expert review, where the pack has one
    status: ChangeState
    reasons: list[dict[str, Any]]
    articles: list[str]
    requested_by: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None = None
    idempotency_key: str | None = None


@dataclass(eq=False)
class Firm:
    """A contractor or 监理 known to the authority, and whether it is on the 失信 list."""

    id: str
    jurisdiction: str
    credit_code: str
    name: str
    blacklisted: bool
    reason: str
    updated_at: dt.datetime


@dataclass(eq=False)
class Project:
    """一个项目 from procurement's side."""

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: str
    declared_fen: int
    software_fen: int
    status: Status
    approved_fen: int | None = None  # the approved total, raised by a re-approval (重新立项)
    approved_on: dt.date | None = None
    plan_issued_on: dt.date | None = None  # 计划下达
    review_passed_on: dt.date | None = None
    overrun_fen: int = 0  # effective changes' net effect on the approved total
    adjusted_fen: int = 0  # effective changes' money moved, added up (lhasa §16)
    requirements: dict[str, Any] | None = None
    tenders: list[dict[str, Any]] = field(default_factory=list)
    reports: list[dict[str, Any]] = field(default_factory=list)
    implementation_plan_on: dt.date | None = None
    contract_signed_on: dt.date | None = None
    contract_starts_on: dt.date | None = None
    contract_ends_on: dt.date | None = None
    contractors: list[str] = field(default_factory=list)
    contract_total_fen: int = 0
    supervisor: str | None = None
    started_on: dt.date | None = None
    completed_on: dt.date | None = None
    security_test_report: str | None = None
    closed_reason: str | None = None
    notices: list[str] = field(default_factory=list)  # deadlines already evented
    created_at: dt.datetime | None = None
    events: list[Event] = field(default_factory=list)

    # -- from other services' events ----------------------------------------------------------
    @classmethod
    def declared(
        cls,
        *,
        project_id: str,
        jurisdiction: str,
        agency: str,
        title: str,
        kind: str,
        amount_fen: int,
        software_fen: int,
        at: dt.datetime,
    ) -> Project:
        return cls(
            id=project_id,
            jurisdiction=jurisdiction,
            agency=agency,
            title=title,
            kind=kind,
            declared_fen=amount_fen,
            software_fen=software_fen,
            status=Status.DECLARED,
            created_at=at,
        )

    def approve(self, approved_fen: int, on: dt.date) -> None:
        if self.status is Status.CLOSED:
            return
        if self.approved_fen is None:
            self.approved_fen, self.approved_on = approved_fen, on
        if self.status is Status.DECLARED:
            self.status = Status.APPROVED

    def close(self, reason: str) -> None:
        if self.status is not Status.COMPLETED:
            self.status, self.closed_reason = Status.CLOSED, reason

    @property
    def total_fen(self) -> int:
        """The approved total with effective changes (or the estimate before approval)."""
        base = self.approved_fen if self.approved_fen is not None else self.declared_fen
        return base + self.overrun_fen

    @property
    def approved(self) -> bool:
        return self.approved_fen is not None and self.status is not Status.CLOSED

    def _open(self) -> None:
        if self.status is Status.CLOSED:
            raise InvalidState(f"项目 {self.id} 已{self.closed_reason or '关闭'}，不能再办理采购与建设事项")

    def _building(self) -> None:
        self._open()
        if self.status is Status.COMPLETED:
            raise InvalidState(f"项目 {self.id} 已竣工")

    # -- procurement ----------------------------------------------------------------------------
    def submit_requirements(self, summary: str, by: str, at: dt.datetime, before: Sequence[Reason]) -> None:
        self._building()
        RuleViolation.refuse_if(before, "不能提交采购需求")
        if self.requirements and self.requirements["status"] == "approved":
            raise InvalidState("采购需求已审核通过")
        self.requirements = {
            "status": "submitted",
            "summary": summary,
            "submitted_by": by,
            "submitted_at": at.isoformat(),
        }

    def review_requirements(
        self, approved: bool, comment: str, by: str, at: dt.datetime, articles: Sequence[str]
    ) -> None:
        self._building()
        if not self.requirements or self.requirements["status"] != "submitted":
            raise InvalidState("没有待审核的采购需求")
        self.requirements = {
            **self.requirements,
            "status": "approved" if approved else "returned",
            "comment": comment,
            "reviewed_by": by,
            "reviewed_at": at.isoformat(),
        }
        self.events.append(
            RequirementsReviewed(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                approved=approved,
                comment=comment,
                articles=tuple(articles),
            )
        )

    @property
    def requirements_approved(self) -> bool:
        return bool(self.requirements and self.requirements["status"] == "approved")

    def record_tender(self, tender: dict[str, Any], refusals: Sequence[Reason]) -> None:
        self._building()
        RuleViolation.refuse_if(refusals, "不能记录采购结果")
        self.tenders = [*self.tenders, tender]
        self.events.append(
            TenderRecorded(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                tender_id=tender["id"],
                method=tender["method"],
                winner=tender["winner"],
                amount_fen=tender["amount_fen"],
                bidders=len(tender["bidders"]),
                awarded_on=dt.date.fromisoformat(tender["awarded_on"]),
            )
        )

    def file_contract(self, contract: Contract, refusals: Sequence[Reason], articles: Sequence[str]) -> None:
        self._building()
        RuleViolation.refuse_if(refusals, "合同不予备案")
        if contract.role is Role.SUPERVISION:
            self.supervisor = contract.counterparty
        else:
            self.contractors = sorted({*self.contractors, contract.counterparty})
            self.contract_total_fen += contract.amount_fen
            if self.contract_signed_on is None or contract.signed_on < self.contract_signed_on:
                self.contract_signed_on = contract.signed_on
            if contract.starts_on and contract.ends_on:
                starts = min(contract.starts_on, self.contract_starts_on or contract.starts_on)
                ends = max(contract.ends_on, self.contract_ends_on or contract.ends_on)
                self.contract_starts_on, self.contract_ends_on = starts, ends
            if self.status is Status.APPROVED:
                self.status = Status.CONTRACTED
        self.events.append(
            ContractFiled(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                contract_id=contract.id,
                role=contract.role.value,
                counterparty=contract.counterparty,
                credit_code=contract.credit_code,
                amount_fen=contract.amount_fen,
                signed_on=contract.signed_on,
                filed_on=contract.filed_on,
                filing_due_on=contract.filing_due_on,
                late=contract.late,
                ip_to_government=contract.ip_to_government,
                milestones=tuple(Milestone(**m) for m in contract.milestones),
                notes=tuple(Citation(**n) for n in contract.notes),
                articles=tuple(articles),
            )
        )

    # -- construction ---------------------------------------------------------------------------
    def start(self, on: dt.date, refusals: Sequence[Reason], articles: Sequence[str]) -> None:
        self._building()
        if self.started_on is not None:
            raise InvalidState(f"项目已于 {self.started_on.isoformat()} 开工")
        RuleViolation.refuse_if(refusals, "不得开工")
        self.started_on = on
        self.status = Status.UNDER_CONSTRUCTION
        self.events.append(
            ConstructionStarted(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                started_on=on,
                supervisor=self.supervisor,
                articles=tuple(articles),
            )
        )

    def report(
        self, kind: str, period: str | None, summary: str, on: dt.date, by: str, articles: Sequence[str]
    ) -> None:
        self._building()
        if kind == "implementation_plan":
            if self.implementation_plan_on is not None:
                raise InvalidState("实施方案和进度计划已报送")
            self.implementation_plan_on = on
        if period is not None and any(r["kind"] == kind and r["period"] == period for r in self.reports):
            raise InvalidState(f"{period}的报告已报送")
        self.reports = [
            *self.reports,
            {"kind": kind, "period": period, "summary": summary, "submitted_on": on.isoformat(), "by": by},
        ]
        self.events.append(
            ProgressReported(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                kind=kind,
                period=period,
                submitted_on=on,
                articles=tuple(articles),
            )
        )

    def complete(
        self,
        on: dt.date,
        security_test_report: str | None,
        refusals: Sequence[Reason],
        articles: Sequence[str],
    ) -> None:
        self._building()
        if self.started_on is None:
            raise InvalidState("项目尚未开工，不能登记竣工")
        if on < self.started_on:
            raise ProcurementError("竣工日期不能早于开工日期")
        RuleViolation.refuse_if(refusals, "不能登记竣工")
        self.completed_on, self.security_test_report = on, security_test_report
        self.status = Status.COMPLETED
        self.events.append(
            ConstructionCompleted(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                completed_on=on,
                contract_total_fen=self.contract_total_fen,
                approved_total_fen=self.total_fen,
                contractors=tuple(self.contractors),
                supervisor=self.supervisor,
                security_test_report=security_test_report,
                articles=tuple(articles),
            )
        )

    # -- changes --------------------------------------------------------------------------------
    def request_change(self, change: Change, parties: Sequence[str]) -> None:
        self._building()
        if not self.approved:
            raise InvalidState("项目尚未批复，没有可变更的批复内容")
        if change.status is ChangeState.FILED:
            self._apply(change)
        self.events.append(self._change_event(change))
        if change.review == "requested":
            self.events.append(
                ChangeReviewRequested(
                    project_id=self.id,
                    jurisdiction=self.jurisdiction,
                    agency=self.agency,
                    change_id=change.id,
                    parties=tuple(parties),
                    articles=tuple(change.articles),
                )
            )

    def decide_change(
        self,
        change: Change,
        role: str,
        approve: bool,
        comment: str,
        by: str,
        at: dt.datetime,
        approval_number: str | None,
    ) -> None:
        self._building()
        if change.status is not ChangeState.PENDING:
            raise InvalidState(f"变更 {change.id} 不在待审批状态（{change.status.value}）")
        if role not in change.approvers:
            raise InvalidState(f"本变更须由 {'、'.join(change.approvers)} 审批")
        if role in change.decisions:
            raise InvalidState("您已对本变更作出决定")
        if approve and change.review in ("requested", "revise"):
            raise InvalidState(
                "变更须待专家评审结论后方可批准",
            )
        if approve and change.review == "fail":
            raise InvalidState("专家评审未通过，变更不能批准")
        if approve and change.path == "reapproval" and role == "authority" and not approval_number:
            raise ProcurementError("重新立项须填写新的批复文号")
        change.decisions = {
            **change.decisions,
            role: {
                "approve": approve,
                "comment": comment,
                "by": by,
                "at": at.isoformat(),
                "approval_number": approval_number,
            },
        }
        if not approve:
            change.status, change.decided_at = ChangeState.REJECTED, at
        elif all(change.decisions.get(r, {}).get("approve") for r in change.approvers):
            change.status, change.decided_at = ChangeState.APPROVED, at
            self._apply(change)
        else:
            return
        self.events.append(self._change_event(change))

    def _apply(self, change: Change) -> None:
        if change.path == "reapproval":  # 重新立项: the new total becomes the approved one
            self.approved_fen = self.total_fen + change.total_delta_fen
            self.overrun_fen = self.adjusted_fen = 0
        else:
            self.overrun_fen += change.total_delta_fen
            self.adjusted_fen += change.adjustment_fen

    def _change_event(self, change: Change) -> ChangeRecorded:
        return ChangeRecorded(
            project_id=self.id,
            jurisdiction=self.jurisdiction,
            agency=self.agency,
            change_id=change.id,
            status=change.status.value,
            path=change.path,
            total_delta_fen=change.total_delta_fen,
            adjustment_fen=change.adjustment_fen,
            approved_total_fen=self.total_fen,
            approvers=tuple(change.approvers),
            reasons=tuple(Citation(**r) for r in change.reasons),
            articles=tuple(change.articles),
        )


def new_id() -> str:
    return uuid.uuid4().hex
