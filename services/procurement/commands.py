"""The commands procurement's API issues: one frozen dataclass each. The instant a command is
judged at comes from the HandlerContext (ctx.now()), not from the command."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.procurement.domain import ChangeRequest, ContractTerms, Listing, PurchaseTerms, Tender
from shared.auth import EVERYWHERE, Scope
from shared.policy.principle import PrincipleException
from shared.workdays import WorkingCalendar


@dataclass(frozen=True)
class SubmitRequirements:
    project_id: str
    summary: str
    by: str
    scope: Scope


@dataclass(frozen=True)
class ReviewRequirements:
    project_id: str
    approved: bool
    comment: str
    by: str
    scope: Scope


@dataclass(frozen=True)
class RecordTender:
    project_id: str
    tender: Tender
    by: str
    scope: Scope


@dataclass(frozen=True)
class FileContract:
    project_id: str
    terms: ContractTerms
    by: str
    scope: Scope
    idempotency_key: str | None = None


@dataclass(frozen=True)
class StartConstruction:
    project_id: str
    on: dt.date | None  # today, where not given
    scope: Scope


@dataclass(frozen=True)
class RecordException:
    """例外: the authority departs from a 原则上 refusal (shexian §30's 监理制)."""

    project_id: str
    exception: PrincipleException
    scope: Scope


@dataclass(frozen=True)
class SubmitReport:
    project_id: str
    kind: str
    period: str | None
    summary: str
    by: str
    scope: Scope


@dataclass(frozen=True)
class CompleteConstruction:
    project_id: str
    on: dt.date | None  # today, where not given
    security_test_report: str | None
    scope: Scope


@dataclass(frozen=True)
class RequestChange:
    project_id: str
    request: ChangeRequest
    by: str
    scope: Scope
    idempotency_key: str | None = None


@dataclass(frozen=True)
class DecideChange:
    change_id: str
    role: str  # authority | finance
    approve: bool
    comment: str
    approval_number: str | None
    by: str
    scope: Scope


@dataclass(frozen=True)
class RecordPurchase:
    """计划外采购 recorded once its procurement is complete; filed at once when materials come with it."""

    terms: PurchaseTerms
    materials: str | None
    by: str
    scope: Scope
    idempotency_key: str | None = None


@dataclass(frozen=True)
class FilePurchase:
    purchase_id: str
    materials: str
    by: str
    scope: Scope


@dataclass(frozen=True)
class SetFirm:
    listing: Listing


@dataclass(frozen=True)
class ScanDeadlines:
    """Check every project in progress (in the scope's jurisdictions) for missed deadlines."""

    scope: Scope = EVERYWHERE


@dataclass(frozen=True)
class RecomputeDeadlines:
    """The holiday arrangement of `years` changed: the open deadlines were worked out by `previous`;
    the context's calendar is the new one."""

    previous: WorkingCalendar
    years: tuple[int, ...]
