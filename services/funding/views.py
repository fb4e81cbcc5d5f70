"""Funding's read side: projects, disbursements and reclaims as API schemas, and the gate report."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, computed_field, field_validator
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db import disbursements, projects, reclaims
from services.funding.domain import (
    NAMES,
    DisbursementStatus,
    FundedProject,
    Gate,
    GateState,
    PaymentKind,
    basis_for,
    required_for,
    shown_open,
)
from services.funding.labels import OPEN_LABELS, ReclaimStatus
from shared.auth import Principal
from shared.labels import Readable
from shared.pagination import Page, PageParams
from shared.policy import PolicyRegistry, Reason
from shared.views import filters, one, page_of, visible_to
from shared.workdays import is_provisional


class DisbursementOut(Readable):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    kind: PaymentKind
    amount_fen: int
    purpose: str
    status: DisbursementStatus
    closed_gates: list[Reason]
    requested_at: datetime
    released_at: datetime | None
    contract_id: str | None = None
    milestone: str | None = None
    stage: str | None = None
    budget_year: int | None = None
    decided_reason: str | None = None
    bases: list[Reason] = Field(
        default_factory=list, description="重要依据：随运维经费决定提供的情况及其条款，不构成拒绝理由"
    )

    @field_validator("bases", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return value or []


class SettlementOut(Readable):
    model_config = ConfigDict(from_attributes=True)

    final_cost_fen: int
    settled_on: date
    released_fen: int
    surplus_fen: int
    to_return_fen: int
    route: str | None
    review_due_on: date | None
    by: str

    @computed_field(description="财评或审计期限为暂定（所在年度尚未加载节假日安排通知）")  # type: ignore[prop-decorator]
    @property
    def review_due_on_provisional(self) -> bool:
        return is_provisional(self.review_due_on)


class FundedProjectOut(Readable):
    model_config = ConfigDict(from_attributes=True)

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: str
    classified: bool
    declared_amount_fen: int
    approved: bool
    approved_amount_fen: int | None
    accepted_on: date | None
    terminated: bool
    settlement: SettlementOut | None


class GateEventOut(BaseModel):
    id: str
    type: str | None
    time: datetime | None
    source: str | None  # the system that published it (CloudEvents source); urn:govit:funding:manual by hand


class GateOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"gate": Gate}

    gate: str
    open: bool
    required_for: dict[str, list[str]]  # payment kind → the articles that make it needed
    basis_for: dict[str, list[str]] = Field(
        default_factory=dict
    )  # payment kind → 重要依据 shown with it (not required), by article
    event: GateEventOut | None
    detail: dict[str, Any]
    explanation: str  # e.g. 终验 — 已满足；由 govit.acceptance.final_acceptance_concluded.v1 设定，来源 …

    @computed_field(description="闸门状态的中文名称：已满足或未满足")  # type: ignore[prop-decorator]
    @property
    def open_label(self) -> str:
        return OPEN_LABELS[self.open]


class ReclaimOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"status": ReclaimStatus}

    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    amount_fen: int
    reason: str
    articles: list[str]
    status: str
    started_at: datetime
    returned_fen: int
    completed_at: datetime | None


async def get_project(
    session: AsyncSession, principal: Principal, project_id: str
) -> FundedProjectOut | None:
    return await one(
        session, projects, FundedProjectOut, projects.c.id == project_id, *visible_to(principal, projects)
    )


async def get_disbursement(
    session: AsyncSession, principal: Principal, item_id: str
) -> DisbursementOut | None:
    return await one(
        session,
        disbursements,
        DisbursementOut,
        disbursements.c.id == item_id,
        *visible_to(principal, disbursements),
    )


@dataclass(frozen=True)
class DisbursementFilter:
    """Which disbursements a list shows (each a query parameter)."""

    project_id: str | None = None
    status: DisbursementStatus | None = None
    jurisdiction: str | None = None
    kind: PaymentKind | None = None


async def list_disbursements(
    session: AsyncSession, principal: Principal, page: PageParams, which: DisbursementFilter
) -> Page[DisbursementOut]:
    where = visible_to(principal, disbursements) + filters(
        [
            (disbursements.c.project_id, which.project_id),
            (disbursements.c.status, which.status),
            (disbursements.c.jurisdiction, which.jurisdiction),
            (disbursements.c.kind, which.kind),
        ]
    )
    order = [disbursements.c.requested_at.desc(), disbursements.c.id]
    return await page_of(session, disbursements, DisbursementOut, page, where, order)


async def list_reclaims(
    session: AsyncSession, principal: Principal, page: PageParams, *, project_id: str
) -> Page[ReclaimOut]:
    where = [reclaims.c.project_id == project_id, *visible_to(principal, reclaims)]
    return await page_of(session, reclaims, ReclaimOut, page, where, [reclaims.c.started_at, reclaims.c.id])


def gate_report(
    policy: PolicyRegistry, project: FundedProject, gates: dict[str, GateState], today: date
) -> list[dict[str, Any]]:
    """Every gate of the project: open or closed, the rules behind it, and the event that set it."""
    users = required_for(policy, project.jurisdiction)
    shown = basis_for(policy, project.jurisdiction)
    opened = shown_open(policy, project.jurisdiction, gates, today)
    out = []
    for gate in Gate:
        state = gates.get(gate.value)
        event = None
        if state is not None and state.event_id:
            event = {
                "id": state.event_id,
                "type": state.event_type,
                "time": state.event_time,
                "source": state.event_source,
            }
        out.append(
            {
                "gate": gate.value,
                "open": opened[gate],
                "required_for": users[gate],
                "basis_for": shown[gate],
                "event": event,
                "detail": state.detail if state is not None else {},
                "explanation": explain(gate, opened[gate], state),
            }
        )
    return out


def explain(gate: Gate, opened: bool, state: GateState | None) -> str:
    """合同备案 — 已满足；由 … 设定 (the system, or the person and document when recorded by hand)."""
    said = f"{NAMES[gate]} — {'已满足' if opened else '未满足'}"
    if state is None or not state.event_id:
        return f"{said}；尚无事件"
    if "recorded_by" in state.detail:
        return f"{said}；由 {state.detail['recorded_by']} 手工登记，依据 {state.detail.get('document_ref')}"
    return f"{said}；由 {state.event_type} 设定，来源 {state.event_source or '未知'}"
