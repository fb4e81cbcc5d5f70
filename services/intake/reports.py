"""Intake's reports: the project register, and a year's plan in its ranking, as CSV or XLSX
(shared.report_files)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response
from sqlalchemy import ColumnElement, select

from services.intake.schemas import ProjectFilter, ReaderDep, UowDep
from services.intake.tables import projects
from services.intake.views import ProjectOut, projects_chosen
from shared.report_files import MEDIA, Column, FormatQuery, report_response

router = APIRouter(prefix="/reports", tags=["reports"])

REGISTER: list[Column] = [
    ("项目编号", "id"),
    ("辖区", "jurisdiction"),
    ("申报单位", "agency"),
    ("项目名称", "title"),
    ("项目类型", "kind_label"),
    ("申报金额（元）", "amount_fen"),
    ("状态", "status_label"),
    ("申请列入年度", "requested_plan_year"),
    ("计划年度", "plan_year"),
    ("计划排序", "plan_rank"),
    ("计划文号", "plan_document"),
    ("资金来源", "funding_source"),
    ("评审结论", "review_verdict"),
    ("批复文号", "approval_number"),
    ("批复金额（元）", "approved_amount_fen"),
    ("创建时间", "created_at"),
    ("申报时间", "declared_at"),
    ("批复时间", "approved_at"),
]


@router.get(
    "/projects",
    summary="项目台账（CSV 或 XLSX；给出 plan_year 时为该年度计划，按排序）",
    response_class=Response,
    responses={200: {"content": {media: {} for media in MEDIA.values()}}},
)
async def register(
    uow: UowDep,
    principal: ReaderDep,
    chosen: Annotated[ProjectFilter, Query()],
    fmt: FormatQuery = "csv",
) -> Response:
    if chosen.jurisdiction is not None:
        principal.check_jurisdiction(chosen.jurisdiction)
    where = projects_chosen(principal, chosen)
    order: list[ColumnElement[Any]] = [projects.c.created_at, projects.c.id]
    if chosen.plan_year is not None:  # a year's plan: in its ranking, the unranked last
        order = [projects.c.plan_rank.is_(None), projects.c.plan_rank, *order]
    async with uow:
        rows = await uow.session.execute(select(projects).where(*where).order_by(*order))
        items = [
            ProjectOut.model_validate(row._mapping).model_dump() | {"plan_document": row.plan_document}
            for row in rows
        ]
    name = f"年度计划{chosen.plan_year}" if chosen.plan_year is not None else "项目台账"
    return report_response(fmt, name, name, REGISTER, items)
