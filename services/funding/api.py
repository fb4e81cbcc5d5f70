"""Funding's HTTP API: disbursement requests, held until their gates open."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from services.funding import handlers, views
from services.funding.db import FundingUnitOfWork
from services.funding.domain import (
    DisbursementNotFound,
    DisbursementStatus,
    FundingError,
    PaymentKind,
    ProjectNotFound,
)
from shared.auth import Principal, Role, require
from shared.deps import IdempotencyKey, PolicyDep, unit_of_work
from shared.money import PositiveFen
from shared.pagination import Page, PageDep

ERRORS: dict[type[Exception], int] = {ProjectNotFound: 404, DisbursementNotFound: 404, FundingError: 422}


UowDep = Annotated[FundingUnitOfWork, Depends(unit_of_work(FundingUnitOfWork))]

# Who may read: the agency (its own), the authority, finance and audit; experts see only
# the cases assigned to them, in the review service.
ReaderDep = Annotated[Principal, require(Role.APPLICANT, Role.FINANCE, Role.AUTHORITY, Role.AUDITOR)]

projects_router = APIRouter(prefix="/projects", tags=["projects"])
disbursements_router = APIRouter(prefix="/disbursements", tags=["disbursements"])


class RequestDisbursementIn(BaseModel):
    amount_fen: PositiveFen = Field(description="拨付金额（分）")
    purpose: str = Field(min_length=2, max_length=200, description="用途")
    kind: PaymentKind = PaymentKind.CONSTRUCTION


@projects_router.get("/{project_id}", response_model=views.FundedProjectOut, summary="资金系统中的项目")
async def get_project(project_id: str, uow: UowDep, principal: ReaderDep) -> views.FundedProjectOut:
    async with uow:
        project = await views.get_project(uow.session, principal, project_id)
    if project is None:
        raise ProjectNotFound(f"资金系统中没有项目 {project_id}")
    return project


@projects_router.post(
    "/{project_id}/disbursements",
    status_code=status.HTTP_201_CREATED,
    response_model=views.DisbursementOut,
    summary="申请拨付：前置条件齐备即拨付（201），否则挂起并说明依据（202）",
)
async def request_disbursement(
    project_id: str,
    body: RequestDisbursementIn,
    uow: UowDep,
    policy: PolicyDep,
    response: Response,
    who: Annotated[Principal, require(Role.APPLICANT, Role.FINANCE)],
    idempotency_key: IdempotencyKey = None,
) -> views.DisbursementOut:
    item, created = await handlers.request_disbursement(
        uow,
        handlers.RequestDisbursement(
            project_id=project_id,
            kind=body.kind,
            amount_fen=body.amount_fen,
            purpose=body.purpose,
            by=who.sub,
            agency=who.agency if who.role is Role.APPLICANT else None,
            idempotency_key=idempotency_key,
        ),
        policy,
    )
    if item.status is DisbursementStatus.HELD:
        response.status_code = status.HTTP_202_ACCEPTED
    elif not created:
        response.status_code = status.HTTP_200_OK
    return views.DisbursementOut.model_validate(item)


@disbursements_router.get("", response_model=Page[views.DisbursementOut], summary="拨付申请列表")
async def list_disbursements(
    uow: UowDep,
    principal: ReaderDep,
    page: PageDep,
    project_id: str | None = None,
    status: DisbursementStatus | None = None,
    jurisdiction: str | None = None,
) -> Page[views.DisbursementOut]:
    async with uow:
        return await views.list_disbursements(
            uow.session, principal, page, project_id=project_id, status=status, jurisdiction=jurisdiction
        )


@disbursements_router.get("/{disbursement_id}", response_model=views.DisbursementOut, summary="拨付申请详情")
async def get_disbursement(disbursement_id: str, uow: UowDep, principal: ReaderDep) -> views.DisbursementOut:
    async with uow:
        item = await views.get_disbursement(uow.session, principal, disbursement_id)
    if item is None:
        raise DisbursementNotFound(f"拨付申请 {disbursement_id} 不存在")
    return item
