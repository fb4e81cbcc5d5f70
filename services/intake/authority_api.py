"""The authority's later acts on a project, over HTTP: the 初步设计 approval that follows the 可研
one where the text asks for it (shexian §20(一)), and 监督整改 — rectification ordered with a
deadline, found met or not, and only on an order overdue or not met the measures the regulation
lists, until lifted (zhonglou §21, shexian §49, lhasa §18). Each answer is the project."""

from __future__ import annotations

from datetime import date
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.intake import commands as c
from services.intake import handlers, views
from services.intake.domain.design import DesignTerms
from services.intake.domain.oversight import MeasureTerms, OrderTerms, Review
from services.intake.schemas import AuthorityDep, UowDep
from shared.contracts.intake import Measure
from shared.deps import ContextDep
from shared.money import PositiveFen
from shared.problems import COMMAND

router = APIRouter(prefix="/projects", tags=["oversight"])


class DesignApprovalIn(BaseModel):
    """初步设计批复."""

    approval_number: str = Field(min_length=2, max_length=128, description="初步设计批复文号")
    approved_amount_fen: PositiveFen | None = Field(
        default=None, description="批复概算（分），默认为可研批复金额"
    )


@router.post(
    "/{project_id}/design-approval",
    response_model=views.ProjectOut,
    responses=COMMAND,
    tags=["projects"],
    summary="初步设计批复：可研批复后报批的第二次批复 (authority; shexian §20(一))",
)
async def approve_design(
    project_id: str, body: DesignApprovalIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    terms = DesignTerms(body.approval_number, body.approved_amount_fen)
    return await handlers.approve_design(uow, c.ApproveDesign(project_id, who.scope, who.sub, terms), ctx)


class OrderIn(BaseModel):
    """责令限期整改."""

    finding: str = Field(
        min_length=2, max_length=2000, description="发现的问题（违反的规定或批复要求、评价发现的严重问题等）"
    )
    items: list[str] = Field(default_factory=list, max_length=200, description="整改事项")
    due_on: date = Field(description="整改期限（Asia/Shanghai 日期，须在今天以后）")
    document_ref: str = Field(min_length=2, max_length=128, description="整改通知文号")


class ReviewIn(BaseModel):
    """整改情况认定: 整改到位, or 整改后仍不符合要求."""

    compliant: bool = Field(description="true：整改到位；false：整改后仍不符合要求")
    document_ref: str = Field(min_length=2, max_length=128, description="认定文号")
    note: str = Field(default="", max_length=2000)


class MeasureIn(BaseModel):
    """处理措施: one the jurisdiction's article lists, on an order overdue or not met."""

    measure: Measure = Field(
        description="notify 通报；defer_plan 暂缓安排建设计划；defer_funds 暂缓安排资金；"
        "stop_om_funds 停止发放运维经费；suspend_construction 暂停建设；terminate 终止项目"
    )
    document_ref: str = Field(min_length=2, max_length=128, description="处理决定文号")
    reason: str = Field(default="", max_length=2000)
    concurrence_ref: str | None = Field(
        default=None, max_length=128, description="会同部门的文号（办法要求会同资金安排部门时必填）"
    )


class LiftIn(BaseModel):
    document_ref: str = Field(min_length=2, max_length=128, description="解除决定文号")
    reason: str = Field(default="", max_length=2000)


@router.post(
    "/{project_id}/rectification-orders",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="责令限期整改 (authority; zhonglou §21、shexian §49、lhasa §18)",
)
async def order_rectification(
    project_id: str, body: OrderIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    terms = OrderTerms(body.finding, tuple(body.items), body.due_on, body.document_ref)
    return await handlers.order_rectification(
        uow, c.OrderRectification(project_id, who.scope, who.sub, terms), ctx
    )


@router.post(
    "/{project_id}/rectification-orders/{order_id}/review",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="认定整改情况：整改到位或整改后仍不符合要求 (authority)",
)
async def review_rectification(
    project_id: str, order_id: str, body: ReviewIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    review = Review(order_id, body.compliant, body.document_ref, body.note)
    return await handlers.review_rectification(
        uow, c.ReviewRectification(project_id, who.scope, who.sub, review), ctx
    )


@router.post(
    "/{project_id}/rectification-orders/{order_id}/measures",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="逾期不整改或整改后仍不符合要求的处理措施 (authority)",
)
async def take_measure(
    project_id: str, order_id: str, body: MeasureIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    terms = MeasureTerms(order_id, body.measure, body.document_ref, body.reason, body.concurrence_ref)
    return await handlers.take_measure(uow, c.TakeMeasure(project_id, who.scope, who.sub, terms), ctx)


@router.post(
    "/{project_id}/oversight-measures/{measure_id}/lift",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="解除暂缓、暂停或停止发放等处理措施 (authority)",
)
async def lift_measure(
    project_id: str, measure_id: str, body: LiftIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = c.LiftMeasure(project_id, who.scope, who.sub, measure_id, body.document_ref, body.reason)
    return await handlers.lift_measure(uow, cmd, ctx)
