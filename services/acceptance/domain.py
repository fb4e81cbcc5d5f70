"""Acceptance's domain: a project from completed construction to its evaluations.

The project (as acceptance sees it) carries its 初验, trial run, data-sharing confirmation,
security attestations, audit report, final-acceptance applications with their conclusions,
the acceptance report and the evaluations. Its events are the gates funding obeys.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.contracts import Event
from shared.contracts.acceptance import (
    AcceptanceReportFiled,
    AuditReportFiled,
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceApplied,
    FinalAcceptanceConcluded,
    InitialAcceptanceRecorded,
    SecurityAttested,
    TrialRunRecorded,
)
from shared.errors import DomainError
from shared.policy import Reason, citations


class AcceptanceError(DomainError):
    """Base of acceptance's refusals; `code` is stable, the message is for people."""

    code = "acceptance_error"
    title = "验收操作被拒绝"


class ProjectNotFound(AcceptanceError):
    code = "project_not_found"
    title = "项目不存在"


class EvaluationNotFound(AcceptanceError):
    code = "evaluation_not_found"
    title = "评价记录不存在"


class RuleViolation(AcceptanceError):
    code = "acceptance_rule_violation"
    title = "不符合项目管理办法的规定"


class InvalidState(AcceptanceError):
    code = "invalid_state"
    title = "项目当前状态不允许此操作"


class Status(StrEnum):
    BUILDING = "building"  # 建设中（尚未竣工）
    COMPLETED = "completed"  # 已竣工，待申请终验
    APPLIED = "applied"  # 已申请终验，待主管部门受理
    UNDER_ACCEPTANCE = "under_acceptance"  # 已受理，验收中
    RECTIFYING = "rectifying"  # 验收未通过，整改中
    ACCEPTED = "accepted"  # 已通过终验
    CLOSED = "closed"  # 不予批复、撤回或终止


def _notes(reasons: Sequence[Reason]) -> list[dict[str, Any]]:
    return [c.model_dump(mode="json") for c in citations(reasons)]


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(eq=False)
class Project:
    """一个项目 from acceptance's side."""

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: str
    software_fen: int
    status: Status
    completed_on: dt.date | None = None
    contractors: list[str] = field(default_factory=list)
    supervisor: str | None = None
    initial: dict[str, Any] | None = None  # held_on, passed, findings, late, notes
    trial_started_on: dt.date | None = None
    trial_ended_on: dt.date | None = None
    data_sharing: dict[str, Any] | None = None  # status, catalogue, items, reason, duplicate_collection
    attestations: list[dict[str, Any]] = field(default_factory=list)
    audit_report: dict[str, Any] | None = None
    delay: dict[str, Any] | None = None  # 延期验收申请: until, reason, status
    applications: list[dict[str, Any]] = field(default_factory=list)
    accepted_on: dt.date | None = None
    report: dict[str, Any] | None = None
    report_due_on: dt.date | None = None
    rectification: dict[str, Any] | None = None
    evaluations: list[dict[str, Any]] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    closed_reason: str | None = None
    created_at: dt.datetime | None = None
    events: list[Event] = field(default_factory=list)

    # -- from other services' events ----------------------------------------------------------
    def record_completion(self, on: dt.date, contractors: Sequence[str], supervisor: str | None) -> None:
        if self.status is Status.BUILDING:
            self.status = Status.COMPLETED
        self.completed_on, self.contractors, self.supervisor = on, sorted(contractors), supervisor

    def close(self, reason: str) -> None:
        if self.status is not Status.ACCEPTED:
            self.status, self.closed_reason = Status.CLOSED, reason

    def _event(self, cls: type[Any], **fields: Any) -> None:
        self.events.append(
            cls(project_id=self.id, jurisdiction=self.jurisdiction, agency=self.agency, **fields)
        )

    def _open(self) -> None:
        if self.status is Status.CLOSED:
            raise InvalidState(f"项目 {self.id} 已{self.closed_reason or '关闭'}")

    def _built(self) -> None:
        self._open()
        if self.completed_on is None:
            raise InvalidState("项目尚未竣工（采购与建设服务登记竣工后方可办理验收事项）")

    @property
    def current(self) -> dict[str, Any] | None:
        """The latest final-acceptance application."""
        return self.applications[-1] if self.applications else None

    # -- 初验 and trial run ---------------------------------------------------------------------
    def record_initial(
        self,
        *,
        held_on: dt.date,
        passed: bool,
        findings: str,
        by: str,
        late: Sequence[Reason],
        order: Sequence[Reason],
        articles: Sequence[str],
    ) -> None:
        self._built()
        assert self.completed_on is not None
        if self.initial and self.initial["passed"]:
            raise InvalidState(f"初验已于 {self.initial['held_on']} 通过")
        if held_on < self.completed_on:
            raise AcceptanceError("初验日期不能早于竣工日期")
        RuleViolation.refuse_if(order, "不能登记初验")
        self.initial = {
            "held_on": held_on.isoformat(),
            "passed": passed,
            "findings": findings,
            "by": by,
            "late": bool(late),
            "notes": _notes(late),
        }
        self._event(
            InitialAcceptanceRecorded,
            held_on=held_on,
            passed=passed,
            late=bool(late),
            notes=citations(late),
            articles=tuple(articles),
        )

    @property
    def initial_on(self) -> dt.date | None:
        """The day 初验 passed."""
        if self.initial and self.initial["passed"]:
            return dt.date.fromisoformat(self.initial["held_on"])
        return None

    def start_trial(self, on: dt.date, order: Sequence[Reason], articles: Sequence[str]) -> None:
        self._built()
        assert self.completed_on is not None
        if self.trial_started_on is not None:
            raise InvalidState(f"试运行已于 {self.trial_started_on.isoformat()} 开始")
        if on < self.completed_on:
            raise AcceptanceError("试运行不能早于竣工")
        RuleViolation.refuse_if(order, "不能开始试运行")
        self.trial_started_on = on
        self._event(TrialRunRecorded, started_on=on, articles=tuple(articles))

    def end_trial(self, on: dt.date, articles: Sequence[str]) -> None:
        self._built()
        if self.trial_started_on is None:
            raise InvalidState("试运行尚未开始")
        if self.trial_ended_on is not None:
            raise InvalidState(f"试运行已于 {self.trial_ended_on.isoformat()} 结束")
        if on <= self.trial_started_on:
            raise AcceptanceError("试运行结束日期须晚于开始日期")
        self.trial_ended_on = on
        self._event(TrialRunRecorded, started_on=self.trial_started_on, ended_on=on, articles=tuple(articles))

    # -- data sharing, security, audit ----------------------------------------------------------
    def submit_data_sharing(
        self, catalogue: Sequence[str], items: Sequence[str], by: str, at: dt.datetime
    ) -> None:
        self._open()
        if self.data_sharing and self.data_sharing["status"] in ("submitted", "confirmed"):
            raise InvalidState(
                "数据共享情况已提交，待主管部门确认"
                if self.data_sharing["status"] == "submitted"
                else "数据共享已确认"
            )
        self.data_sharing = {
            "status": "submitted",
            "catalogue": list(catalogue),
            "items": list(items),
            "submitted_by": by,
            "submitted_at": at.isoformat(),
        }

    def decide_data_sharing(
        self,
        decision: str,
        *,
        duplicate_collection: bool,
        reason: str,
        by: str,
        at: dt.datetime,
        articles: Sequence[str],
    ) -> None:
        self._open()
        state = self.data_sharing["status"] if self.data_sharing else None
        if decision == "revoked" and state != "confirmed":
            raise InvalidState("只有已确认的数据共享才能撤销确认")
        if decision in ("confirmed", "refused") and state != "submitted":
            raise InvalidState("没有待确认的数据共享情况，请建设单位先提交数据资源目录和共享清单")
        if decision != "confirmed" and not reason.strip():
            raise AcceptanceError("不予确认或撤销确认须写明理由")
        if decision == "confirmed" and duplicate_collection:
            raise AcceptanceError("存在重复采集数据的，不能确认数据共享")
        assert self.data_sharing is not None
        self.data_sharing = {
            **self.data_sharing,
            "status": decision,
            "duplicate_collection": duplicate_collection,
            "reason": reason,
            "decided_by": by,
            "decided_at": at.isoformat(),
        }
        self._event(
            DataSharingDecided,
            decision=decision,
            duplicate_collection=duplicate_collection,
            reason=reason,
            articles=tuple(articles),
        )

    @property
    def data_sharing_confirmed(self) -> bool:
        return bool(self.data_sharing and self.data_sharing["status"] == "confirmed")

    def attest(
        self,
        attestation: str,
        *,
        compliant: bool,
        reference: str,
        issued_on: dt.date,
        valid_until: dt.date | None,
        by: str,
        articles: Sequence[str],
    ) -> None:
        self._open()
        if valid_until is not None and valid_until < issued_on:
            raise AcceptanceError("有效期不能早于出具日期")
        self.attestations = [
            *self.attestations,
            {
                "attestation": attestation,
                "compliant": compliant,
                "reference": reference,
                "issued_on": issued_on.isoformat(),
                "valid_until": valid_until.isoformat() if valid_until else None,
                "by": by,
            },
        ]
        self._event(
            SecurityAttested,
            attestation=attestation,
            compliant=compliant,
            valid_until=valid_until,
            articles=tuple(articles),
        )

    def file_audit_report(self, reference: str, issued_on: dt.date, auditor: str, by: str) -> None:
        self._built()
        self.audit_report = {
            "reference": reference,
            "issued_on": issued_on.isoformat(),
            "auditor": auditor,
            "by": by,
        }
        self._event(AuditReportFiled, reference=reference, issued_on=issued_on, auditor=auditor)

    # -- the final acceptance -------------------------------------------------------------------
    def request_delay(self, until: dt.date, reason: str, by: str) -> None:
        self._built()
        if self.delay and self.delay["status"] == "pending":
            raise InvalidState("已有待审批的延期验收申请")
        self.delay = {"until": until.isoformat(), "reason": reason, "status": "pending", "by": by}

    def decide_delay(self, approve: bool, comment: str, by: str) -> None:
        self._built()
        if not self.delay or self.delay["status"] != "pending":
            raise InvalidState("没有待审批的延期验收申请")
        self.delay = {
            **self.delay,
            "status": "approved" if approve else "refused",
            "comment": comment,
            "decided_by": by,
        }

    @property
    def delay_until(self) -> dt.date | None:
        if self.delay and self.delay["status"] == "approved":
            return dt.date.fromisoformat(self.delay["until"])
        return None

    def apply(
        self,
        *,
        materials: dict[str, str],
        archives_accepted: bool,
        on: dt.date,
        by: str,
        refusals: Sequence[Reason],
        notes: Sequence[Reason],
    ) -> dict[str, Any]:
        self._built()
        if self.status not in (Status.COMPLETED, Status.RECTIFYING):
            raise InvalidState(
                {
                    Status.APPLIED: "终验申请已提交，待主管部门受理",
                    Status.UNDER_ACCEPTANCE: "终验正在进行",
                    Status.ACCEPTED: "项目已通过终验",
                }.get(self.status, f"项目当前状态（{self.status.value}）不能申请终验")
            )
        RuleViolation.refuse_if(refusals, "终验申请不予受理")
        application = {
            "id": new_id(),
            "round": len(self.applications) + 1,
            "status": "submitted",
            "materials": dict(materials),
            "archives_accepted": archives_accepted,
            "submitted_on": on.isoformat(),
            "submitted_by": by,
            "notes": _notes(notes),
        }
        self.applications = [*self.applications, application]
        self.status = Status.APPLIED
        return application

    def _set_current(self, **changes: Any) -> dict[str, Any]:
        current = {**self.applications[-1], **changes}
        self.applications = [*self.applications[:-1], current]
        return current

    def admit(
        self,
        admit: bool,
        reason: str,
        by: str,
        *,
        experts: bool,
        refusals: Sequence[Reason],
        articles: Sequence[str],
    ) -> None:
        self._built()
        if self.status is not Status.APPLIED:
            raise InvalidState("没有待受理的终验申请")
        if admit:
            RuleViolation.refuse_if(refusals, "终验申请不能受理")
        if not admit:
            if not reason.strip():
                raise AcceptanceError("退回终验申请须写明理由")
            self._set_current(status="returned", reason=reason, decided_by=by)
            self.status = Status.RECTIFYING if len(self.applications) > 1 else Status.COMPLETED
            return
        current = self._set_current(status="admitted", decided_by=by, experts=experts)
        self.status = Status.UNDER_ACCEPTANCE
        parties = [*self.contractors, *([self.supervisor] if self.supervisor else [])]
        self._event(
            FinalAcceptanceApplied,
            application_id=current["id"],
            round=current["round"],
            parties=tuple(parties),
            experts=experts,
            notes=tuple(current["notes"]),
            articles=tuple(articles),
        )

    def conclude(
        self,
        passed: bool,
        *,
        on: dt.date,
        items: Sequence[str],
        rectification_due: dt.date | None,
        report_due_on: dt.date | None,
        by: str,
        articles: Sequence[str],
    ) -> None:
        self._built()
        if self.status is not Status.UNDER_ACCEPTANCE:
            raise InvalidState("没有正在进行的终验")
        if not passed and rectification_due is not None and rectification_due <= on:
            raise AcceptanceError("整改期限须晚于验收日期")
        current = self._set_current(
            status="passed" if passed else "failed",
            concluded_on=on.isoformat(),
            concluded_by=by,
            rectification_items=list(items),
            rectification_due=rectification_due.isoformat() if rectification_due else None,
        )
        if passed:
            self.status, self.accepted_on, self.report_due_on = Status.ACCEPTED, on, report_due_on
            self.rectification = None
        else:
            self.status = Status.RECTIFYING
            self.rectification = {
                "items": list(items),
                "due_on": rectification_due.isoformat() if rectification_due else None,
            }
        self._event(
            FinalAcceptanceConcluded,
            passed=passed,
            concluded_on=on,
            application_id=current["id"],
            round=current["round"],
            rectification_items=tuple(items),
            rectification_due=rectification_due,
            report_due_on=report_due_on if passed else None,
            articles=tuple(articles),
        )

    def order_rectification(self, items: Sequence[str], due_on: dt.date) -> None:
        """The authority's rectification items after a failed acceptance (zhonglou §19, bayingolin §25)."""
        self._built()
        if self.status is not Status.RECTIFYING:
            raise InvalidState("项目不在整改中")
        self.rectification = {"items": list(items), "due_on": due_on.isoformat()}

    def file_report(
        self, reference: str, on: dt.date, late: Sequence[Reason], by: str, articles: Sequence[str]
    ) -> None:
        self._built()
        if self.status is not Status.ACCEPTED:
            raise InvalidState("项目尚未通过终验，没有可备案的验收报告")
        if self.report is not None:
            raise InvalidState(f"验收报告已于 {self.report['filed_on']} 备案")
        self.report = {
            "reference": reference,
            "filed_on": on.isoformat(),
            "late": bool(late),
            "notes": _notes(late),
            "by": by,
        }
        self._event(
            AcceptanceReportFiled,
            reference=reference,
            filed_on=on,
            due_on=self.report_due_on,
            late=bool(late),
            notes=citations(late),
            articles=tuple(articles),
        )

    # -- evaluations ----------------------------------------------------------------------------
    def record_evaluation(
        self,
        evaluation: str,
        *,
        period: str | None,
        serious_problems: Sequence[str],
        rectified: bool,
        rectification_due: dt.date | None,
        summary: str,
        on: dt.date,
        by: str,
        refusals: Sequence[Reason],
        notes: Sequence[Reason],
        articles: Sequence[str],
    ) -> dict[str, Any]:
        self._open()
        RuleViolation.refuse_if(refusals, "评价不予登记")
        if serious_problems and not rectified and rectification_due is None:
            raise AcceptanceError("发现严重问题的，须给出整改期限")
        record = {
            "id": new_id(),
            "evaluation": evaluation,
            "period": period,
            "serious_problems": list(serious_problems),
            "rectified": rectified or not serious_problems,
            "rectification_due": rectification_due.isoformat() if rectification_due else None,
            "summary": summary,
            "recorded_on": on.isoformat(),
            "by": by,
            "notes": _notes(notes),
        }
        self.evaluations = [*self.evaluations, record]
        self._evaluation_event(record, articles)
        return record

    def rectify_evaluation(
        self, evaluation_id: str, by: str, on: dt.date, articles: Sequence[str]
    ) -> dict[str, Any]:
        self._open()
        for i, record in enumerate(self.evaluations):
            if record["id"] == evaluation_id:
                if record["rectified"]:
                    raise InvalidState("该评价发现的问题已整改到位")
                updated = {**record, "rectified": True, "rectified_on": on.isoformat(), "rectified_by": by}
                self.evaluations = [*self.evaluations[:i], updated, *self.evaluations[i + 1 :]]
                self._evaluation_event(updated, articles)
                return updated
        raise EvaluationNotFound(f"评价 {evaluation_id} 不存在")

    def _evaluation_event(self, record: dict[str, Any], articles: Sequence[str]) -> None:
        due = record["rectification_due"]
        self._event(
            EvaluationRecorded,
            evaluation=record["evaluation"],
            evaluation_id=record["id"],
            serious_problems=tuple(record["serious_problems"]),
            rectified=record["rectified"],
            rectification_due=dt.date.fromisoformat(due) if due else None,
            articles=tuple(articles),
        )
