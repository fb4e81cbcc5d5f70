"""财政 and 审计: the payments finance watches (held ones with each closed gate and its article),
the ledger and the registers as files; a project's audit trail in every service, and each
service's verification of its audit chain.
"""

from __future__ import annotations

import asyncio
import math
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response

from services.console.backends import LABELS, BackendError
from services.console.forms import PAYMENT_KINDS
from services.console.pages import Part, backends, part
from services.console.render import render, unless_role
from services.console.session import ROLE_LABELS, Person, PersonDep, check_csrf
from shared.auth import Role
from shared.report_files import MEDIA

router = APIRouter(dependencies=[Depends(check_csrf)])

ENTITIES = {
    "projects": "项目",
    "materials": "材料",
    "plans": "年度计划",
    "plan_entries": "计划条目",
    "disbursements": "拨付申请",
    "gates": "拨付条件",
    "contracts": "合同",
    "changes": "变更",
    "cases": "评审案件",
    "reclaims": "资金收回",
}
STATUSES = {"held": "待拨付", "released": "已拨付", "rejected": "不予拨付"}
#: the files a person may take away: (service, path, file name)
EXPORTS = {
    "ledger": ("funding", "/reports/ledger", "资金台账"),
    "projects": ("intake", "/reports/projects", "项目台账"),
}


def _only(request: Request, person: Person, *roles: Role) -> HTMLResponse | None:
    names = "、".join(ROLE_LABELS[r] for r in roles)
    return unless_role(request, frozenset(roles), "您的身份不能使用此页", f"此页供 {names} 使用。")


@router.get("/finance", response_class=HTMLResponse, summary="财政：拨付申请")
async def finance(
    request: Request,
    person: PersonDep,
    status: Literal["held", "released", "rejected"] = "held",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    if (refused := _only(request, person, Role.FINANCE, Role.AUTHORITY, Role.AUDITOR)) is not None:
        return refused
    size = request.app.state.settings.page_size
    where = {"status": status, "jurisdiction": person.jurisdictions[0]}
    params = where | {"limit": size, "offset": (page - 1) * size}
    listed = await part("funding", backends(request).get("funding", "/disbursements", person.token, **params))
    total = listed.data["total"] if listed.data else 0
    return render(
        request,
        "finance.html",
        listed=listed,
        status=status,
        statuses=STATUSES,
        kinds=PAYMENT_KINDS,
        page=page,
        pages=max(1, math.ceil(total / size)),
        total=total,
    )


@router.get("/exports/{report}.{fmt}", summary="导出报表（CSV 或 XLSX）")
async def export(
    request: Request, report: Literal["ledger", "projects"], fmt: Literal["csv", "xlsx"], person: PersonDep
) -> Response:
    service, path, name = EXPORTS[report]
    params = {"format": fmt, "jurisdiction": person.jurisdictions[0]}
    try:
        answered = await backends(request).call(service, "GET", path, person.token, params=params)
    except BackendError as exc:
        return render(request, "error.html", status_code=502, title="无法导出", detail=exc.message)
    filename = f"{name}.{fmt}"
    disposition = f"attachment; filename*=UTF-8''{_quoted(filename)}"
    return Response(answered.content, media_type=MEDIA[fmt], headers={"Content-Disposition": disposition})


def _quoted(name: str) -> str:
    return quote(name)


@router.get("/audit", response_class=HTMLResponse, summary="审计：项目的审计记录与审计链校验")
async def audit(
    request: Request, person: PersonDep, project_id: Annotated[str | None, Query(max_length=64)] = None
) -> HTMLResponse:
    if (refused := _only(request, person, Role.AUDITOR, Role.AUTHORITY)) is not None:
        return refused
    b, token = backends(request), person.token
    trails: list[Part] = []
    if project_id:
        trails = list(
            await asyncio.gather(
                *(part(s, b.get(s, "/audit", token, key=project_id, limit=200)) for s in LABELS)
            )
        )
    checks: list[Part] = []
    if person.is_(Role.AUDITOR):
        checks = list(
            await asyncio.gather(*(part(s, b.get(s, "/audit/verification", token)) for s in LABELS))
        )
    return render(
        request, "audit.html", project_id=project_id or "", trails=trails, checks=checks, entities=ENTITIES
    )
