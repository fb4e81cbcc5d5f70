"""The project as procurement sees it, from approval to completed construction: requirements review,
procurement results, reports, construction dates; contracts and change requests are records of their
own. Every refusal names the rule's article; the other domain modules ask the pack for the rules."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.procurement.domain.changes import Change, ChangeState, Decision
from services.procurement.domain.contracts import Contract, Role
from services.procurement.domain.errors import InvalidState, ProcurementError, RuleViolation
from services.procurement.domain.records import Report, Requirements, Tender
from services.procurement.domain.status import Status
from shared.contracts import Event
from shared.contracts.procurement import (
    ChangeRecorded,
    ChangeReviewRequested,
    ConstructionCompleted,
    ConstructionStarted,
    ProgressReported,
    RequirementsReviewed,
    TenderRecorded,
)
from shared.policy import Reason, citations

Reasons = Sequence[Reason]


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
    requirements: Requirements | None = None
    tenders: list[Tender] = field(default_factory=list)
    reports: list[Report] = field(default_factory=list)
    implementation_plan_on: dt.date | None = None
    contract_signed_on: dt.date | None = None
    contract_starts_on: dt.date | None = None
    contract_ends_on: dt.date | None = None
    contractors: list[str] = field(default_factory=list)
    contract_total_fen: int = 0
    supervisor: str | None = None
    exceptions: list[dict[str, Any]] | None = None  # 原则上: the authority's exceptions (domain.construction)
    started_on: dt.date | None = None
    completed_on: dt.date | None = None
    security_test_report: str | None = None
    closed_reason: str | None = None
    notices: list[str] = field(default_factory=list)  # deadlines already evented
    extensions: dict[str, str] | None = None  # 延期: deadline kind → ISO date (Project.extend)
    suspension: dict[str, Any] | None = None  # 暂停建设 in force, by measure id (domain.suspension)
    created_at: dt.datetime | None = None
    events: list[Event] = field(default_factory=list)

    # -- from other services' events ----------------------------------------------------------
    def approve(self, approved_fen: int, on: dt.date) -> None:
        if self.status is Status.CLOSED:
            return
        if self.approved_fen is None:
            self.approved_fen, self.approved_on = approved_fen, on
        if self.status is Status.DECLARED:
            self.status = Status.APPROVED

    def extend(self, deadline: str | None, until: dt.date | None) -> None:
        """延期: the authority moved a missed deadline to a later day instead of terminating."""
        if deadline and until and self.status is not Status.CLOSED:
            self.extensions = {**(self.extensions or {}), deadline: until.isoformat()}

    def plan_issued(self, on: dt.date) -> None:
        """计划下达: bayingolin §16 and §21 count from the first."""
        if self.plan_issued_on is None:
            self.plan_issued_on = on

    def review_passed(self, on: dt.date) -> None:
        """The approval review's first pass starts zhonglou §17's clock."""
        if self.review_passed_on is None:
            self.review_passed_on = on

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

    @property
    def in_progress(self) -> bool:
        """Its deadlines still run: neither closed nor completed."""
        return self.status not in (Status.CLOSED, Status.COMPLETED)

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
        if self.requirements and self.requirements.approved:
            raise InvalidState("采购需求已审核通过")
        self.requirements = Requirements("submitted", summary, by, at)

    def review_requirements(
        self, approved: bool, comment: str, by: str, at: dt.datetime, articles: Sequence[str]
    ) -> None:
        self._building()
        if not self.requirements or self.requirements.status != "submitted":
            raise InvalidState("没有待审核的采购需求")
        self.requirements = self.requirements.reviewed(approved, comment, by, at)
        self._emit(RequirementsReviewed, approved=approved, comment=comment, articles=tuple(articles))

    @property
    def requirements_approved(self) -> bool:
        return bool(self.requirements and self.requirements.approved)

    def record_tender(self, tender: Tender, refusals: Sequence[Reason]) -> None:
        self._building()
        RuleViolation.refuse_if(refusals, "不能记录采购结果")
        self.tenders = [*self.tenders, tender]
        self._emit(
            TenderRecorded,
            tender_id=tender.id,
            method=tender.method,
            winner=tender.winner,
            amount_fen=tender.amount_fen,
            bidders=len(tender.bidders),
            awarded_on=tender.awarded_on,
        )

    def file_contract(self, contract: Contract, refusals: Sequence[Reason], articles: Sequence[str]) -> None:
        self._building()
        RuleViolation.refuse_if(refusals, "合同不予备案")
        if contract.role is Role.SUPERVISION:
            self.supervisor = contract.counterparty
        elif contract.role is Role.CONSTRUCTION:
            self._contracted(contract)  # a design contract (设计) is none of construction's facts
        self.events.append(contract.filed(articles))

    def _contracted(self, contract: Contract) -> None:
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

    # -- construction ---------------------------------------------------------------------------
    def start(self, on: dt.date, refusals: Reasons, articles: Sequence[str], excepted: Reasons = ()) -> None:
        """开工; `excepted`: the 原则上 refusals the authority departed from, cited in the event."""
        self._building()
        if self.started_on is not None:
            raise InvalidState(f"项目已于 {self.started_on.isoformat()} 开工")
        RuleViolation.refuse_if(refusals, "不得开工")
        self.started_on = on
        self.status = Status.UNDER_CONSTRUCTION
        made, cited = citations(excepted), tuple(articles)
        self._emit(
            ConstructionStarted, started_on=on, supervisor=self.supervisor, exceptions=made, articles=cited
        )

    def report(self, report: Report, articles: Sequence[str]) -> None:
        self._building()
        if report.kind == "implementation_plan":
            if self.implementation_plan_on is not None:
                raise InvalidState("实施方案和进度计划已报送")
            self.implementation_plan_on = report.submitted_on
        if report.period is not None and any(
            r.kind == report.kind and r.period == report.period for r in self.reports
        ):
            raise InvalidState(f"{report.period}的报告已报送")
        self.reports = [*self.reports, report]
        self._emit(
            ProgressReported,
            kind=report.kind,
            period=report.period,
            submitted_on=report.submitted_on,
            articles=tuple(articles),
        )

    def complete(
        self,
        on: dt.date,
        security_test_report: str | None,
        refusals: Reasons,
        articles: Sequence[str],
        excepted: Reasons = (),
    ) -> None:
        self._building()
        if self.started_on is None:
            raise InvalidState("项目尚未开工，不能登记竣工")
        if on < self.started_on:
            raise ProcurementError("竣工日期不能早于开工日期")
        RuleViolation.refuse_if(refusals, "不能登记竣工")
        self.completed_on, self.security_test_report = on, security_test_report
        self.status = Status.COMPLETED
        self._emit(
            ConstructionCompleted,
            completed_on=on,
            contract_total_fen=self.contract_total_fen,
            approved_total_fen=self.total_fen,
            contractors=tuple(self.contractors),
            supervisor=self.supervisor,
            security_test_report=security_test_report,
            exceptions=citations(excepted),
            articles=tuple(articles),
        )

    # -- changes --------------------------------------------------------------------------------
    def request_change(self, change: Change) -> None:
        self._building()
        if not self.approved:
            raise InvalidState("项目尚未批复，没有可变更的批复内容")
        if change.status is ChangeState.FILED:
            self._apply(change)
        self.events.append(self._change_event(change))
        if change.review == "requested":
            parties = [*self.contractors, *([self.supervisor] if self.supervisor else [])]
            self._emit(
                ChangeReviewRequested,
                change_id=change.id,
                parties=tuple(parties),
                articles=tuple(change.articles),
            )

    def decide_change(self, change: Change, role: str, decision: Decision) -> None:
        self._building()
        if not change.decide(role, decision):
            return
        if change.status is ChangeState.APPROVED:
            self._apply(change)
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
            reasons=tuple(change.reasons),
            articles=tuple(change.articles),
        )

    def _emit(self, event: type[Event], **fields: object) -> None:
        self.events.append(
            event(project_id=self.id, jurisdiction=self.jurisdiction, agency=self.agency, **fields)
        )
