"""Procurement's open data: the OCDS 1.1 release package of a jurisdiction's procurement
(services.procurement.ocds), for 政务公开 portals and open-contracting tools."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Annotated, Any

import simplejson
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from services.procurement import ocds
from services.procurement.api import ReaderDep, UowDep
from services.procurement.db import changes, contracts, projects
from services.procurement.domain import Change, Contract, Project
from shared.problems import NOT_FOUND, Problem
from shared.views import filters, visible_to

router = APIRouter(prefix="/reports", tags=["reports"])
MEDIA = "application/json"


@router.get(
    "/ocds",
    summary="采购公开数据：OCDS 1.1 发布包（招标、授标、合同及其变更），供政务公开与开放合同工具使用",
    description=(
        "一个项目为一个采购过程（ocid = 发布者前缀 + 项目编号），每个已发生的事项为一条 release："
        "planning（批复投资）、tender+award（采购结果）、contract（备案合同，含付款节点）、"
        "contractAmendment/tenderAmendment（已备案或已批准的变更，附所依条文）。金额为元（精确小数），"
        "币种 CNY。`since` 只取该日（北京时间）及以后的 release，便于增量采集；没有可发布的 release 时"
        "返回 204（发布包至少须有一条 release）。可见范围与项目列表相同。"
    ),
    response_class=Response,
    responses={200: {"content": {MEDIA: {}}}, 204: {"description": "没有可发布的 release"}, **NOT_FOUND},
)
async def release_package(
    request: Request,
    uow: UowDep,
    principal: ReaderDep,
    jurisdiction: Annotated[
        str | None, Query(description="辖区（发布者为该辖区的主管部门）；令牌只代表一个辖区时可省略")
    ] = None,
    project_id: str | None = None,
    since: Annotated[dt.date | None, Query(description="只取此日（北京时间）及以后的 release")] = None,
) -> Response:
    jurisdiction = principal.check_jurisdiction(jurisdiction or _only(principal))
    policy = request.app.state.policy
    if jurisdiction not in policy:
        raise Problem(404, "unknown_jurisdiction", "没有该辖区的政策包", f"辖区：{jurisdiction}")
    pack = policy[jurisdiction]
    settings = request.app.state.settings
    publisher = ocds.Publisher(f"{pack.name}{pack.authority}", settings.ocid_prefix, settings.ocds_license)
    async with uow:
        found = await _records(uow.session, principal, jurisdiction, project_id)
    start = None if since is None else ocds.on_day(since)
    made = [
        pair
        for project, (signed, changed) in found
        for pair in ocds.releases(project, signed, changed, publisher.ocid_prefix)
        if start is None or pair[0] >= start
    ]
    if not made:
        return Response(status_code=204)
    latest = max(when for when, _ in made)
    body = ocds.package([release for _, release in made], publisher, str(request.url), latest)
    text = simplejson.dumps(body, ensure_ascii=False, use_decimal=True)
    return Response(text.encode("utf-8"), media_type=MEDIA)


def _only(principal: ReaderDep) -> str:
    mine = sorted(principal.jurisdictions)
    if len(mine) != 1:
        held = "、".join(mine) or "未限定"
        detail = f"发布包的发布者是一个辖区的主管部门，请以 jurisdiction 指定；令牌所属辖区：{held}"
        raise Problem(422, "jurisdiction_required", "请指定辖区", detail)
    return mine[0]


async def _records(
    session: Any, principal: ReaderDep, jurisdiction: str, project_id: str | None
) -> list[tuple[Project, tuple[list[Contract], list[Change]]]]:
    """The visible projects of the jurisdiction, each with its contracts and changes."""

    def chosen(table: Any) -> list[Any]:
        pairs = [(table.c.jurisdiction, jurisdiction), (table.c.project_id, project_id)]
        return [*visible_to(principal, table), *filters(pairs)]

    where = [
        *visible_to(principal, projects),
        *filters([(projects.c.jurisdiction, jurisdiction), (projects.c.id, project_id)]),
    ]
    found = list(await session.scalars(select(Project).where(*where).order_by(projects.c.id)))
    by_project: dict[str, tuple[list[Contract], list[Change]]] = defaultdict(lambda: ([], []))
    for contract in await session.scalars(
        select(Contract).where(*chosen(contracts)).order_by(contracts.c.filed_at, contracts.c.id)
    ):
        by_project[contract.project_id][0].append(contract)
    for change in await session.scalars(
        select(Change).where(*chosen(changes)).order_by(changes.c.requested_at, changes.c.id)
    ):
        by_project[change.project_id][1].append(change)
    return [(project, by_project[project.id]) for project in found]
