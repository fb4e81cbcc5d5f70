"""The commands acceptance's API issues, one frozen dataclass each: what was asked, by whom, and
within which scope (a project outside it is not found). Events from other services are their
own commands (shared.contracts)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from shared.auth import Scope
from shared.workdays import WorkingCalendar


@dataclass(frozen=True)
class ProjectCommand:
    project_id: str
    by: str
    scope: Scope


@dataclass(frozen=True)
class RecordInitial(ProjectCommand):
    """登记初验 (applicant)."""

    held_on: dt.date
    passed: bool
    findings: str


@dataclass(frozen=True)
class RecordTrialRun(ProjectCommand):
    """登记试运行开始或结束 (applicant)."""

    started_on: dt.date | None
    ended_on: dt.date | None


@dataclass(frozen=True)
class SubmitDataSharing(ProjectCommand):
    catalogue: tuple[str, ...]
    items: tuple[str, ...]


@dataclass(frozen=True)
class DecideDataSharing(ProjectCommand):
    decision: str  # confirmed | refused | revoked
    duplicate_collection: bool
    reason: str


@dataclass(frozen=True)
class Attest(ProjectCommand):
    attestation: str  # mlps | crypto | secrecy_assessment | secrecy_approval
    compliant: bool
    reference: str
    issued_on: dt.date
    valid_until: dt.date | None
    issuer: str = ""
    issuer_level: str | None = None


@dataclass(frozen=True)
class FileAuditReport(ProjectCommand):
    reference: str
    issued_on: dt.date
    auditor: str


@dataclass(frozen=True)
class RequestDelay(ProjectCommand):
    until: dt.date
    reason: str


@dataclass(frozen=True)
class DecideDelay(ProjectCommand):
    approve: bool
    comment: str


@dataclass(frozen=True)
class Apply(ProjectCommand):
    materials: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Admit(ProjectCommand):
    admit: bool
    reason: str


@dataclass(frozen=True)
class Conclude(ProjectCommand):
    passed: bool
    items: tuple[str, ...]
    rectification_due: dt.date | None


@dataclass(frozen=True)
class OrderRectification(ProjectCommand):
    items: tuple[str, ...]
    due_on: dt.date


@dataclass(frozen=True)
class FileReport(ProjectCommand):
    reference: str


@dataclass(frozen=True)
class RecordEvaluation(ProjectCommand):
    evaluation: str  # self | post | first_year
    period: str | None
    serious_problems: tuple[str, ...]
    rectified: bool
    rectification_due: dt.date | None
    summary: str


@dataclass(frozen=True)
class RectifyEvaluation(ProjectCommand):
    evaluation_id: str


@dataclass(frozen=True)
class ScanEvaluations:
    """Announce the post-evaluations whose window opened, of the scope's jurisdictions."""

    scope: Scope


@dataclass(frozen=True)
class RecomputeDeadlines:
    """The holiday arrangement of `years` changed: the time limits were worked out by `previous`;
    the context's calendar is the new one."""

    previous: WorkingCalendar
    years: tuple[int, ...]
