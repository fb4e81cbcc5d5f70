"""What review is asked to do: one frozen dataclass per command its API issues.

The events review consumes are their own commands (shared.contracts); `scope` is whose cases the
caller may act on, `expert_ids` the caller's entries in the pools (one per pool).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.review.domain import ExpertStatus, Opinion, Registration, Submission, Verdict
from shared.auth import EVERYWHERE, Scope
from shared.workdays import WorkingCalendar


@dataclass(frozen=True)
class AddExpert:
    jurisdiction: str  # the pool is the one this jurisdiction's panels draw from
    name: str
    employer: str
    title: str
    specialties: tuple[str, ...]
    subject: str | None = None

    def registration(self) -> Registration:
        return Registration(self.name, self.employer, self.title, self.specialties, self.subject)


@dataclass(frozen=True)
class SetExpertStatus:
    expert_id: str
    status: ExpertStatus
    reason: str
    scope: Scope  # the pools of its jurisdictions


@dataclass(frozen=True)
class OpenCase:
    project_id: str
    jurisdiction: str
    stage: str
    agency: str
    parties: tuple[str, ...]
    by: str

    def submission(self) -> Submission:
        return Submission(self.project_id, self.jurisdiction, self.stage, self.agency, self.parties)


@dataclass(frozen=True)
class DrawPanel:
    case_id: str
    scope: Scope
    seed: str | None = None  # a fresh one when None


@dataclass(frozen=True)
class SetParties:
    case_id: str
    scope: Scope
    parties: tuple[str, ...]


@dataclass(frozen=True)
class AttachAssessment:
    case_id: str
    scope: Scope
    text: str


@dataclass(frozen=True)
class Decline:
    case_id: str
    scope: Scope
    expert_ids: frozenset[str]


@dataclass(frozen=True)
class SubmitOpinion:
    case_id: str
    scope: Scope
    expert_ids: frozenset[str]
    score: int
    verdict: Verdict
    comments: str

    def opinion(self) -> Opinion:
        return Opinion(self.score, self.verdict, self.comments)


@dataclass(frozen=True)
class IssueReport:
    case_id: str
    scope: Scope
    document: str


@dataclass(frozen=True)
class Resubmit:
    case_id: str
    scope: Scope


@dataclass(frozen=True)
class ScanOverdue:
    today: dt.date
    scope: Scope = EVERYWHERE


@dataclass(frozen=True)
class RecomputeTimeLimits:
    """The holiday arrangement of `years` changed: the running time limits were counted by
    `previous`; the context's calendar is the new one."""

    previous: WorkingCalendar
    years: tuple[int, ...]
