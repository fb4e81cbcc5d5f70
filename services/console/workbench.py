"""主管部门工作台: the authority's queues — declarations to screen, the year's plan to rank and
publish, projects to approve, termination recommendations waiting for a decision.

Each action is the intake service's own command; a refusal comes back with its reasons and the
articles they cite, said on the page the authority returns to.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from services.console.backends import BackendError
from services.console.forms import FormError, fen_from_wan
from services.console.pages import Part, backends, part
from services.console.render import flash, flash_failure, render, unless_role
from services.console.session import Person, PersonDep, check_csrf
from shared.auth import Role

router = APIRouter(prefix="/workbench", dependencies=[Depends(check_csrf)])
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _next_year() -> int:
    return datetime.now(SHANGHAI).year + 1


def _authority(request: Request, person: Person) -> HTMLResponse | None:
    detail = "工作台供主管部门使用；请以主管部门身份登录。"
    return unless_role(request, frozenset({Role.AUTHORITY}), "只有主管部门可以使用工作台", detail)


@router.get("", response_class=HTMLResponse, summary="主管部门工作台")
async def workbench(
    request: Request, person: PersonDep, year: Annotated[int | None, Query(ge=2000, le=2100)] = None
) -> HTMLResponse:
    if (refused := _authority(request, person)) is not None:
        return refused
    b, token, j = backends(request), person.token, person.jurisdictions[0]
    year = year or _next_year()

    def projects(**filters: Any) -> Any:
        return b.get("intake", "/projects", token, jurisdiction=j, limit=100, **filters)

    queues: list[Part] = list(
        await asyncio.gather(
            part("intake", projects(status="declared")),
            part("intake", projects(status="accepted", plan_year=year)),
            part("intake", b.get("intake", f"/plans/{j}/{year}", token)),
            part("intake", projects(status="in_plan")),
            part("intake", projects(termination="pending")),
        )
    )
    to_screen, to_rank, plan, to_approve, to_decide = queues
    if plan.error is not None and getattr(plan.error, "status", None) == 404:
        plan = Part("intake", data=None)  # no plan of that year yet
    return render(
        request,
        "workbench.html",
        year=year,
        to_screen=to_screen,
        to_rank=to_rank,
        plan=plan,
        to_approve=to_approve,
        to_decide=to_decide,
    )


async def _act(request: Request, person: Person, path: str, body: Any, done: str, back: str) -> Response:
    if (refused := _authority(request, person)) is not None:
        return refused
    try:
        answered = await backends(request).call("intake", "POST", path, person.token, json=body)
    except BackendError as exc:
        flash_failure(request, exc)
        return RedirectResponse(back, status_code=303)
    made = answered.json()
    flash(request, done.format_map(defaultdict(str, made)) if isinstance(made, dict) else done)
    return RedirectResponse(back, status_code=303)


@router.post("/screening/{project_id}", summary="形式审查")
async def screen(request: Request, project_id: str, person: PersonDep) -> Response:
    done = "形式审查已完成：{title}，{status_label}。"
    return await _act(request, person, f"/projects/{project_id}/screening", {}, done, "/workbench")


@router.post("/plans/{year}/ranking", summary="年度计划排序")
async def rank(request: Request, year: int, person: PersonDep) -> Response:
    if (refused := _authority(request, person)) is not None:
        return refused
    form = await request.form()
    chosen: list[tuple[int, str]] = []
    for key, value in form.items():
        if key.startswith("rank-") and isinstance(value, str) and value.strip():
            try:
                chosen.append((int(value), key.removeprefix("rank-")))
            except ValueError:
                flash(request, "排序请填写整数（1 为最优先），不列入计划的留空。", "error")
                return RedirectResponse(f"/workbench?year={year}#plan-h", status_code=303)
    ranking = [project for _, project in sorted(chosen)]
    j = person.jurisdictions[0]
    try:
        body = {"ranking": ranking}
        await backends(request).call("intake", "PUT", f"/plans/{j}/{year}", person.token, json=body)
    except BackendError as exc:
        flash_failure(request, exc)
    else:
        flash(request, f"{year} 年度计划排序已保存（{len(ranking)} 个项目）。")
    return RedirectResponse(f"/workbench?year={year}#plan-h", status_code=303)


@router.post("/plans/{year}/publication", summary="下达年度计划")
async def publish(
    request: Request, year: int, person: PersonDep, document: Annotated[str, Form(max_length=128)]
) -> Response:
    path = f"/plans/{person.jurisdictions[0]}/{year}/publication"
    done = f"{year} 年度计划已下达（{{document}}）。"
    return await _act(request, person, path, {"document": document.strip()}, done, f"/workbench?year={year}")


@router.post("/approval/{project_id}", summary="批复项目")
async def approve(
    request: Request,
    project_id: str,
    person: PersonDep,
    approval_number: Annotated[str, Form(max_length=128)],
    approved_wan: Annotated[str, Form()],
) -> Response:
    try:
        amount = fen_from_wan("approved_wan", approved_wan)
    except FormError as exc:
        flash(request, f"批复金额：{exc.message}", "error")
        return RedirectResponse("/workbench#approve-h", status_code=303)
    body = {"approval_number": approval_number.strip(), "approved_amount_fen": amount}
    done = "已批复：{title}，{approval_number}，{approved_amount_yuan}。"
    return await _act(request, person, f"/projects/{project_id}/approval", body, done, "/workbench#approve-h")
