"""What the API asks intake to do: one frozen dataclass per command. The instant comes from
the handler's context (ctx.now()), the person from the token (`by`, `scope`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from services.intake.domain import ApprovalTerms, Declaration
from services.intake.domain.design import DesignTerms
from services.intake.domain.oversight import MeasureTerms, OrderTerms, Review
from services.intake.domain.screening import AgencyLevel
from shared.auth import Scope
from shared.policy.principle import PrincipleException


@dataclass(frozen=True)
class RegisterAgency:
    jurisdiction: str
    name: str
    level: AgencyLevel
    parent: str | None = None


@dataclass(frozen=True)
class SetAgencyDuties:
    agency_id: str
    scope: Scope
    unmet: bool
    note: str = ""


@dataclass(frozen=True)
class DraftProject:
    jurisdiction: str
    agency: str
    by: str
    declaration: Declaration
    idempotency_key: str | None = None


@dataclass(frozen=True)
class ProjectCommand:
    """A command about one project, by someone acting within `scope`."""

    project_id: str
    scope: Scope
    by: str


@dataclass(frozen=True)
class UpdateDraft(ProjectCommand):
    changes: Mapping[str, Any]


@dataclass(frozen=True)
class Submit(ProjectCommand):
    pass


@dataclass(frozen=True)
class UploadMaterial(ProjectCommand):
    material: str
    filename: str
    chunks: AsyncIterator[bytes]


@dataclass(frozen=True)
class Screen(ProjectCommand):
    exceptions: tuple[PrincipleException, ...] = ()  # 原则上 refusals the authority departs from


@dataclass(frozen=True)
class RecordSignoff(ProjectCommand):
    signoff: str
    document_ref: str


@dataclass(frozen=True)
class Approve(ProjectCommand):
    terms: ApprovalTerms


@dataclass(frozen=True)
class Reject(ProjectCommand):
    reason: str


@dataclass(frozen=True)
class Withdraw(ProjectCommand):
    reason: str


@dataclass(frozen=True)
class DecideTermination(ProjectCommand):
    decision: str
    document_ref: str
    reason: str
    until: date | None = None


@dataclass(frozen=True)
class RankPlan:
    jurisdiction: str
    year: int
    ranking: tuple[str, ...]


@dataclass(frozen=True)
class PublishPlan:
    jurisdiction: str
    year: int
    document: str
    by: str
    exceptions: tuple[PrincipleException, ...] = ()


@dataclass(frozen=True)
class OrderRectification(ProjectCommand):
    terms: OrderTerms


@dataclass(frozen=True)
class ReviewRectification(ProjectCommand):
    review: Review


@dataclass(frozen=True)
class TakeMeasure(ProjectCommand):
    terms: MeasureTerms


@dataclass(frozen=True)
class LiftMeasure(ProjectCommand):
    measure_id: str
    document_ref: str
    reason: str


@dataclass(frozen=True)
class ApproveDesign(ProjectCommand):
    terms: DesignTerms
