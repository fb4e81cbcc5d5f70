"""Funding's reports: the payment ledger as CSV or XLSX (shared.report_files)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import APIRouter, Response
from sqlalchemy import select

from services.funding.api import ReaderDep, UowDep
from services.funding.db import disbursements, reclaims
from services.funding.views import DisbursementOut, ReclaimOut
from shared.policy import Reason
from shared.report_files import MEDIA, Column, FormatQuery, report_response
from shared.views import filters, visible_to

router = APIRouter(prefix="/reports", tags=["reports"])

LEDGER: list[Column] = [
    ("记录", "record"),
    ("编号", "id"),
    ("项目编号", "project_id"),
    ("辖区", "jurisdiction"),
    ("申报单位", "agency"),
    ("款项类型", "kind_label"),
    ("用途或原因", "purpose"),
    ("合同", "contract_id"),
    ("里程碑", "milestone"),
    ("金额（元）", "amount_fen"),
    ("状态", "status_label"),
    ("未满足的前置条件及依据", "closed"),
    ("依据条文", "articles"),
    ("申请或开始时间", "requested_at"),
    ("拨付或完成时间", "released_at"),
]


def closed(reasons: list[Reason]) -> str:
    """终验（xunyang §20）；审计报告（xunyang §20）: each closed gate with its articles."""
    return "；".join(f"{r.message}（{'、'.join(r.articles)}）" for r in reasons)


@router.get(
    "/ledger",
    summary="资金台账（CSV 或 XLSX）：拨付申请（已拨付、挂起及其未满足的闸门与条文、不予拨付）与资金收回",
    response_class=Response,
    responses={200: {"content": {media: {} for media in MEDIA.values()}}},
)
async def ledger(
    uow: UowDep,
    principal: ReaderDep,
    fmt: FormatQuery = "csv",
    jurisdiction: str | None = None,
    project_id: str | None = None,
) -> Response:
    if jurisdiction is not None:
        principal.check_jurisdiction(jurisdiction)
    chosen = [(disbursements.c.jurisdiction, jurisdiction), (disbursements.c.project_id, project_id)]
    taken = [(reclaims.c.jurisdiction, jurisdiction), (reclaims.c.project_id, project_id)]
    async with uow:
        paid = await uow.session.execute(
            select(disbursements)
            .where(*visible_to(principal, disbursements), *filters(chosen))
            .order_by(disbursements.c.requested_at, disbursements.c.id)
        )
        payments = [DisbursementOut.model_validate(row._mapping) for row in paid]
        back = await uow.session.execute(
            select(reclaims)
            .where(*visible_to(principal, reclaims), *filters(taken))
            .order_by(reclaims.c.started_at, reclaims.c.id)
        )
        returned = [(ReclaimOut.model_validate(row._mapping), row._mapping) for row in back]
    return report_response(fmt, "资金台账", "资金台账", LEDGER, _rows(payments, returned))


def _rows(
    payments: list[DisbursementOut], returned: list[tuple[ReclaimOut, Any]]
) -> Iterator[dict[str, Any]]:
    for item in payments:
        row = item.model_dump()
        yield row | {"record": "拨付申请", "closed": closed(item.closed_gates)}
    for reclaim, stored in returned:
        row = reclaim.model_dump()
        yield row | {
            "record": "资金收回",
            "agency": stored["agency"],
            "jurisdiction": stored["jurisdiction"],
            "purpose": reclaim.reason,
            "requested_at": reclaim.started_at,
            "released_at": reclaim.completed_at,
        }
