"""主管部门工作台: the authority's queues — declarations to screen, the year's plan to rank and
publish, projects to approve, termination recommendations and changes waiting for a decision,
final-acceptance applications to admit, and every deadline overdue in procurement and acceptance.

Each action is the owning service's own command; a refusal comes back with its reasons and the
articles they cite, said on the page the authority returns to.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field, field_validator

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

    def projects(service: str = "intake", **filters: Any) -> Any:
        return b.get(service, "/projects", token, jurisdiction=j, limit=100, **filters)

    def overdue(service: str) -> Any:
        return b.get(service, "/deadlines", token, jurisdiction=j, state="missed", limit=100)

    queues: list[Part] = list(
        await asyncio.gather(
            part("intake", projects(status="declared")),
            part("intake", projects(status="accepted", plan_year=year)),
            part("intake", b.get("intake", f"/plans/{j}/{year}", token)),
            part("intake", projects(status="in_plan")),
            part("intake", _recommended(b, token, j)),
            part("procurement", b.get("procurement", "/changes", token, jurisdiction=j, status="pending")),
            part("acceptance", projects("acceptance", status="applied")),
            part("procurement", overdue("procurement")),
            part("acceptance", overdue("acceptance")),
        )
    )
    to_screen, to_rank, plan, to_approve, to_decide, changes, applied, *late = queues
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
        changes=changes,
        applied=applied,
        overdue=late,
    )


async def _recommended(b: Any, token: str, j: str) -> dict[str, Any]:
    """The termination recommendations pending, each project with its recommendation (reason,
    articles, the deadline missed) from its detail."""
    listed = await b.get("intake", "/projects", token, jurisdiction=j, termination="pending", limit=50)
    details = await asyncio.gather(*(b.get("intake", f"/projects/{p['id']}", token) for p in listed["items"]))
    return {**listed, "items": list(details)}


@dataclass(frozen=True)
class Action:
    """A command of one service the workbench gives, and what to say once it is done."""

    service: str
    path: str
    body: Any
    done: str
    back: str = "/workbench"


async def _act(request: Request, person: Person, action: Action) -> Response:
    if (refused := _authority(request, person)) is not None:
        return refused
    try:
        b = backends(request)
        answered = await b.call(action.service, "POST", action.path, person.token, json=action.body)
    except BackendError as exc:
        flash_failure(request, exc)
        return RedirectResponse(action.back, status_code=303)
    made = answered.json()
    flash(request, action.done.format_map(defaultdict(str, made)) if isinstance(made, dict) else action.done)
    return RedirectResponse(action.back, status_code=303)


@router.post("/screening/{project_id}", summary="形式审查")
async def screen(request: Request, project_id: str, person: PersonDep) -> Response:
    done = "形式审查已完成：{title}，{status_label}。"
    return await _act(request, person, Action("intake", f"/projects/{project_id}/screening", {}, done))


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
    body = {"document": document.strip()}
    return await _act(request, person, Action("intake", path, body, done, f"/workbench?year={year}"))


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
    path = f"/projects/{project_id}/approval"
    return await _act(request, person, Action("intake", path, body, done, "/workbench#approve-h"))


class TerminationForm(BaseModel):
    decision: Literal["terminate", "extend", "keep"]
    document_ref: str = Field(max_length=128)
    reason: str = Field(default="", max_length=2000)
    until: date | None = None

    @field_validator("until", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if value == "" else value  # a date field left empty


@router.post("/termination/{project_id}", summary="对终止建议作出决定")
async def decide_termination(
    request: Request, project_id: str, person: PersonDep, form: Annotated[TerminationForm, Form()]
) -> Response:
    body = form.model_dump(mode="json") | {
        "document_ref": form.document_ref.strip(),
        "reason": form.reason.strip(),
    }
    done = "终止建议已决定：{title}，{status_label}。"
    path = f"/projects/{project_id}/termination-decision"
    return await _act(request, person, Action("intake", path, body, done, "/workbench#decide-h"))


class DecisionForm(BaseModel):
    approve: Literal["yes", "no"]
    comment: str = Field(default="", max_length=5000)


@router.post("/changes/{change_id}", summary="审批变更")
async def decide_change(
    request: Request, change_id: str, person: PersonDep, form: Annotated[DecisionForm, Form()]
) -> Response:
    body = {"approve": form.approve == "yes", "comment": form.comment.strip()}
    done = "变更审批已提交：{description}，{status_label}。"
    path = f"/changes/{change_id}/decision"
    return await _act(request, person, Action("procurement", path, body, done, "/workbench#changes-h"))


@router.post("/admission/{project_id}", summary="受理或退回终验申请")
async def admit(
    request: Request, project_id: str, person: PersonDep, form: Annotated[DecisionForm, Form()]
) -> Response:
    body = {"admit": form.approve == "yes", "reason": form.comment.strip()}
    done = "终验申请已办理：{title}，{status_label}。"
    path = f"/projects/{project_id}/final-acceptance/admission"
    return await _act(request, person, Action("acceptance", path, body, done, "/workbench#admit-h"))
