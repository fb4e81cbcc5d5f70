"""计划外采购备案 over HTTP (lhasa §10 第二款): the department records a purchase made outside the
annual plan once procured, and files its materials within the pack's limit."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response, status

from services.procurement import commands, purchase_handlers, views
from services.procurement.api import ApplicantDep, KeyedApplicantDep, ReaderDep, UowDep
from services.procurement.domain import Purchase
from services.procurement.domain.errors import PurchaseNotFound
from services.procurement.schemas import PurchaseFilingIn, PurchaseIn
from shared.auth import Principal
from shared.consume import HandlerContext
from shared.deps import ContextDep
from shared.pagination import Page, PageDep
from shared.problems import COMMAND, NOT_FOUND, Problem
from shared.workdays import today_in_shanghai

purchases = APIRouter(prefix="/purchases", tags=["purchases"])


def _agency(who: Principal) -> str:
    if who.agency is None:
        raise Problem(403, "agency_required", "计划外采购须以建设单位身份备案", "令牌缺少 agency 声明")
    return who.agency


def _out(purchase: Purchase, ctx: HandlerContext) -> views.PurchaseOut:
    return views.purchase_out(purchase, ctx.policy, today_in_shanghai(ctx.now()))


@purchases.post(
    "",
    status_code=201,
    response_model=views.PurchaseOut,
    responses={
        **COMMAND,
        200: {"model": views.PurchaseOut, "description": "同一 Idempotency-Key 的重试：返回已登记的采购"},
    },
    summary="登记计划外采购 (applicant; lhasa §10)：采购完成后1个月内备案，附材料即同时备案",
)
async def record_purchase(
    body: PurchaseIn, response: Response, uow: UowDep, caller: KeyedApplicantDep, ctx: ContextDep
) -> Any:
    who = caller.who
    if body.jurisdiction not in ctx.policy:
        raise Problem(422, "unknown_jurisdiction", "辖区代码无效", f"未知辖区 {body.jurisdiction}")
    who.check_jurisdiction(body.jurisdiction)
    cmd = commands.RecordPurchase(body.terms(_agency(who)), body.materials, who.sub, who.scope, caller.key)
    purchase, created = await purchase_handlers.record_purchase(uow, cmd, ctx)
    if not created:
        response.status_code = status.HTTP_200_OK
    return _out(purchase, ctx)


@purchases.post(
    "/{purchase_id}/filing",
    response_model=views.PurchaseOut,
    responses=COMMAND,
    summary="报送计划外采购的备案材料 (applicant)；逾期备案予以登记并标注",
)
async def file_purchase(
    purchase_id: str, body: PurchaseFilingIn, uow: UowDep, who: ApplicantDep, ctx: ContextDep
) -> Any:
    cmd = commands.FilePurchase(purchase_id, body.materials, who.sub, who.scope)
    return _out(await purchase_handlers.file_purchase(uow, cmd, ctx), ctx)


@purchases.get(
    "", response_model=Page[views.PurchaseOut], summary="计划外采购及其备案（建设单位只见本单位的）"
)
async def list_purchases(
    uow: UowDep, who: ReaderDep, page: PageDep, ctx: ContextDep, jurisdiction: str | None = None
) -> Page[views.PurchaseOut]:
    if jurisdiction is not None:
        who.check_jurisdiction(jurisdiction)
    async with uow:
        judged = (ctx.policy, today_in_shanghai(ctx.now()))
        return await views.list_purchases(uow.session, who, page, jurisdiction, judged)


@purchases.get(
    "/{purchase_id}", response_model=views.PurchaseOut, responses=NOT_FOUND, summary="计划外采购详情"
)
async def get_purchase(purchase_id: str, uow: UowDep, who: ReaderDep, ctx: ContextDep) -> Any:
    async with uow:
        purchase = await uow.purchases.get(purchase_id)
        if purchase is None or not who.may_see(purchase.jurisdiction, purchase.agency):
            raise PurchaseNotFound(f"计划外采购 {purchase_id} 不存在")
        return _out(purchase, ctx)
