"""The commands funding's API issues, one frozen dataclass each."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.funding.domain import Ask, Disbursement, OmAsk, PaymentKind
from services.funding.domain.settlement import Terms
from shared.auth import Scope
from shared.policy.principle import PrincipleException
from shared.workdays import WorkingCalendar


@dataclass(frozen=True)
class RequestDisbursement:
    project_id: str
    kind: PaymentKind
    amount_fen: int
    purpose: str
    by: str
    scope: Scope  # whose projects the requester acts for
    idempotency_key: str | None = None
    contract_id: str | None = None
    milestone: str | None = None

    def ask(self) -> Ask:
        return Ask(
            kind=self.kind,
            amount_fen=self.amount_fen,
            purpose=self.purpose,
            by=self.by,
            idempotency_key=self.idempotency_key,
            contract_id=self.contract_id,
            milestone=self.milestone,
        )

    def repeated_by(self, earlier: Disbursement) -> bool:
        """Whether a request recorded under the same Idempotency-Key is this one."""
        return (
            earlier.project_id,
            earlier.kind,
            earlier.amount_fen,
            earlier.purpose,
            earlier.contract_id,
            earlier.milestone,
        ) == (self.project_id, self.kind, self.amount_fen, self.purpose, self.contract_id, self.milestone)


@dataclass(frozen=True)
class OmApplication:
    project_id: str
    amount_fen: int
    budget_year: int
    purpose: str
    free_maintenance_ends_on: dt.date | None
    by: str
    scope: Scope  # whose projects the applicant acts for
    idempotency_key: str | None = None
    jurisdiction: str | None = None  # the applicant's, where the project is not known
    classified: bool = False  # the applicant's word, where the project is not known

    def application(self) -> OmAsk:
        return OmAsk(
            amount_fen=self.amount_fen,
            budget_year=self.budget_year,
            purpose=self.purpose,
            by=self.by,
            free_maintenance_ends_on=self.free_maintenance_ends_on,
            idempotency_key=self.idempotency_key,
        )

    def repeated_by(self, earlier: Disbursement) -> bool:
        return (earlier.project_id, earlier.kind, earlier.amount_fen, earlier.budget_year) == (
            self.project_id,
            PaymentKind.OM,
            self.amount_fen,
            self.budget_year,
        )


@dataclass(frozen=True)
class Withdraw:
    disbursement_id: str
    by: str
    scope: Scope


@dataclass(frozen=True)
class Settle:
    project_id: str
    final_cost_fen: int
    settled_on: dt.date
    by: str
    scope: Scope

    def terms(self) -> Terms:
        return Terms(final_cost_fen=self.final_cost_fen, settled_on=self.settled_on, by=self.by)


@dataclass(frozen=True)
class CompleteReclaim:
    project_id: str
    reclaim_id: str
    returned_fen: int
    scope: Scope


@dataclass(frozen=True)
class GrantByException:
    """Finance grants a denied O&M application, departing from its 原则上 refusals."""

    disbursement_id: str
    exceptions: tuple[PrincipleException, ...]
    scope: Scope


@dataclass(frozen=True)
class RecomputeDeadlines:
    """The holiday arrangement of `years` changed: the settlement reviews' due dates were worked out
    by `previous`; the context's calendar is the new one."""

    previous: WorkingCalendar
    years: tuple[int, ...]
