"""The project as acceptance sees it: from completed construction to its evaluations.

The project carries its 初验, trial run, data-sharing confirmation, security attestations,
audit report, final-acceptance applications with their conclusions, the acceptance report and
the evaluations (typed records, see records.py). The decisions that move it live one module
each beside this one; its events are the gates funding obeys.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from services.acceptance.domain.errors import InvalidState
from services.acceptance.domain.outcomes import Application, Evaluation
from services.acceptance.domain.records import (
    Attestation,
    AuditReport,
    DataSharing,
    Delay,
    InitialAcceptance,
    Rectification,
    Report,
)
from shared.contracts import Event
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar, today_in_shanghai


class Status(StrEnum):
    BUILDING = "building"  # 建设中（尚未竣工）
    COMPLETED = "completed"  # 已竣工，待申请终验
    APPLIED = "applied"  # 已申请终验，待主管部门受理
    UNDER_ACCEPTANCE = "under_acceptance"  # 已受理，验收中
    RECTIFYING = "rectifying"  # 验收未通过，整改中
    ACCEPTED = "accepted"  # 已通过终验
    CLOSED = "closed"  # 不予批复、撤回或终止


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Pack:
    """What a decision is judged by: the jurisdictions' rules, the working calendar, and the
    instant the service's clock gives (today is Shanghai's day of it)."""

    policy: PolicyRegistry
    calendar: WorkingCalendar
    now: dt.datetime

    @property
    def today(self) -> dt.date:
        return today_in_shanghai(self.now)

    def articles(self, jurisdiction: str, rule_id: str) -> tuple[str, ...]:
        return self.policy.rule(jurisdiction, rule_id).articles


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
    classified: bool = False  # 涉密项目, as declared
    completed_on: dt.date | None = None
    contractors: list[str] = field(default_factory=list)
    supervisor: str | None = None
    initial: InitialAcceptance | None = None
    trial_started_on: dt.date | None = None
    trial_ended_on: dt.date | None = None
    data_sharing: DataSharing | None = None
    attestations: tuple[Attestation, ...] = ()
    audit_report: AuditReport | None = None
    delay: Delay | None = None  # 延期验收申请
    applications: tuple[Application, ...] = ()
    accepted_on: dt.date | None = None
    report: Report | None = None
    report_due_on: dt.date | None = None
    rectification: Rectification | None = None
    evaluations: tuple[Evaluation, ...] = ()
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

    # -- what every decision relies on --------------------------------------------------------
    def emit(self, cls: type[Any], **fields: Any) -> None:
        self.events.append(
            cls(project_id=self.id, jurisdiction=self.jurisdiction, agency=self.agency, **fields)
        )

    def ensure_open(self) -> None:
        if self.status is Status.CLOSED:
            raise InvalidState(f"项目 {self.id} 已{self.closed_reason or '关闭'}")

    def ensure_built(self) -> dt.date:
        """The completion day; a project not completed (or closed) has no acceptance business."""
        self.ensure_open()
        if self.completed_on is None:
            raise InvalidState("项目尚未竣工（采购与建设服务登记竣工后方可办理验收事项）")
        return self.completed_on

    @property
    def parties(self) -> tuple[str, ...]:
        """The contractors and the supervisor (who take part in the acceptance)."""
        return (*self.contractors, *([self.supervisor] if self.supervisor else []))

    @property
    def current(self) -> Application | None:
        """The latest final-acceptance application."""
        return self.applications[-1] if self.applications else None

    def replace_current(self, application: Application) -> Application:
        self.applications = (*self.applications[:-1], application)
        return application

    @property
    def initial_on(self) -> dt.date | None:
        """The day 初验 passed."""
        return self.initial.held_on if self.initial and self.initial.passed else None

    @property
    def data_sharing_confirmed(self) -> bool:
        return bool(self.data_sharing and self.data_sharing.status == "confirmed")

    @property
    def delay_until(self) -> dt.date | None:
        return self.delay.until if self.delay and self.delay.status == "approved" else None
