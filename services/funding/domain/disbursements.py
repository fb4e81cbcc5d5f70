"""资金拨付申请: held while a gate is closed, released when all are open, exactly once."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.funding.domain.errors import InvalidState, Refused
from services.funding.domain.kinds import DisbursementStatus, PaymentKind
from services.funding.domain.projects import FundedProject
from shared.contracts import Event
from shared.contracts.funding import (
    DisbursementHeld,
    DisbursementRejected,
    DisbursementReleased,
    DisbursementRequested,
    OmDecided,
)
from shared.policy import Reason, citations


@dataclass(frozen=True)
class Ask:
    """What a requester asks to be paid (a construction-side payment, or O&M funds for a year)."""

    kind: PaymentKind
    amount_fen: int
    purpose: str
    by: str
    idempotency_key: str | None = None
    contract_id: str | None = None
    milestone: str | None = None
    budget_year: int | None = None


@dataclass(eq=False)
class Disbursement:
    """资金拨付申请: held while a gate is closed, released when all are open, exactly once."""

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    kind: PaymentKind
    amount_fen: int
    purpose: str
    requested_by: str
    requested_at: dt.datetime
    status: DisbursementStatus
    closed_gates: list[dict[str, Any]]  # the reasons it is held (or denied), as stored
    idempotency_key: str | None = None
    released_at: dt.datetime | None = None
    contract_id: str | None = None
    milestone: str | None = None
    milestone_key: str | None = None  # contract:milestone, to add up what a milestone has taken
    om_key: str | None = None  # unique: one approved O&M grant per project and budget year
    stage: str | None = None
    budget_year: int | None = None
    decided_reason: str | None = None
    bases: list[dict[str, Any]] | None = None  # 重要依据 shown with an O&M decision (bayingolin §13)
    events: list[Event] = field(default_factory=list)

    @classmethod
    def request(
        cls, project: FundedProject, ask: Ask, at: dt.datetime, stage: str | None = None
    ) -> Disbursement:
        if ask.amount_fen <= 0:
            raise ValueError("amount_fen must be positive")
        kind, contract_id, milestone = ask.kind, ask.contract_id, ask.milestone
        item = cls(
            id=uuid.uuid4().hex,
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            agency=project.agency,
            kind=kind,
            amount_fen=ask.amount_fen,
            purpose=ask.purpose,
            requested_by=ask.by,
            requested_at=at,
            status=DisbursementStatus.HELD,
            closed_gates=[],
            idempotency_key=ask.idempotency_key,
            contract_id=contract_id,
            milestone=milestone,
            milestone_key=f"{contract_id}:{milestone}" if kind is PaymentKind.MILESTONE else None,
            stage=stage,
            budget_year=ask.budget_year,
        )
        item.events.append(
            DisbursementRequested(
                project_id=project.id,
                jurisdiction=project.jurisdiction,
                agency=project.agency,
                disbursement_id=item.id,
                kind=kind.value,
                amount_fen=ask.amount_fen,
                contract_id=contract_id,
                milestone=milestone,
            )
        )
        return item

    def reconsider(self, closed: Sequence[Reason], at: dt.datetime, *, announce_hold: bool = False) -> bool:
        """Release when no gate is closed; True when this call released it."""
        if self.status is not DisbursementStatus.HELD:
            return False
        self.closed_gates = [r.model_dump(mode="json") for r in closed]
        if closed:
            if announce_hold:
                self.events.append(
                    DisbursementHeld(
                        project_id=self.project_id,
                        jurisdiction=self.jurisdiction,
                        agency=self.agency,
                        disbursement_id=self.id,
                        amount_fen=self.amount_fen,
                        closed_gates=citations(closed),
                    )
                )
            return False
        self.status = DisbursementStatus.RELEASED
        self.released_at = at
        self.events.append(
            DisbursementReleased(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                disbursement_id=self.id,
                amount_fen=self.amount_fen,
                agency=self.agency,
                kind=self.kind.value,
                contract_id=self.contract_id,
                milestone=self.milestone,
            )
        )
        return True

    def reject(self, reason: str, articles: Sequence[str], at: dt.datetime) -> None:
        if self.status is not DisbursementStatus.HELD:
            return
        self.status, self.decided_reason, self.released_at = DisbursementStatus.REJECTED, reason, None
        self.events.append(
            DisbursementRejected(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                disbursement_id=self.id,
                amount_fen=self.amount_fen,
                reason=reason,
                articles=tuple(articles),
            )
        )

    def ensure_denied_om(self) -> None:
        if self.kind is not PaymentKind.OM or self.status is not DisbursementStatus.REJECTED:
            raise InvalidState(f"拨付申请 {self.id} 不是被拒绝的运维经费申请，不能作出例外")

    def grant_by_exception(self, standing: Sequence[Reason], made: Sequence[Reason], at: dt.datetime) -> None:
        """A denied O&M application granted after all, the 原则上 refusals departed from (made) and
        nothing else standing; else it stays denied, with what still stands."""
        self.ensure_denied_om()
        Refused.refuse_if(standing, "作出例外后仍不符合核准条件")
        self.bases = [*(self.bases or []), *(m.model_dump(mode="json") for m in made)]
        self.closed_gates, self.decided_reason = [], "；".join(m.message for m in made)
        self.decide_om((), at, [Reason.model_validate(b) for b in self.bases])

    @property
    def reasons(self) -> list[Reason]:
        """Why it is held (or was denied), each with its article."""
        return [Reason.model_validate(r) for r in self.closed_gates]

    def withdraw(self, by: str, at: dt.datetime) -> None:
        """The requester takes back a request still held (e.g. after the total was cut)."""
        if self.status is not DisbursementStatus.HELD:
            raise InvalidState(f"拨付申请 {self.id} 已{self.status.value}，不能撤回")
        self.reject(f"申请人撤回（{by}）", (), at)

    def decide_om(self, refusals: Sequence[Reason], at: dt.datetime, bases: Sequence[Reason] = ()) -> None:
        """O&M funds are decided at once: approved, or denied with every reason; the pack's
        重要依据 are recorded beside the decision, which they do not change."""
        assert self.budget_year is not None
        self.closed_gates = [r.model_dump(mode="json") for r in refusals]
        self.bases = [b.model_dump(mode="json") for b in bases]
        if refusals:
            self.status, self.decided_reason = (
                DisbursementStatus.REJECTED,
                "；".join(r.message for r in refusals),
            )
        else:
            self.status, self.released_at = DisbursementStatus.RELEASED, at
            self.om_key = f"{self.project_id}:{self.budget_year}"
        self.events.append(
            OmDecided(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                disbursement_id=self.id,
                approved=not refusals,
                amount_fen=self.amount_fen,
                budget_year=self.budget_year,
                reasons=citations(refusals),
                bases=citations(bases),
            )
        )
