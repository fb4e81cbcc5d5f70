"""专家: an expert's panels, a case's facts, the project's declaration and materials, and the
opinion form.

The review service decides what an expert sees (only the cases they are seated on, by their
login) and whether an opinion is taken; the console shows that and says a refusal plainly. The
materials are intake's: review gives a seated expert a reading pass for the project under review,
which intake asks for beside the expert's own token (shared.reading_pass).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from pydantic import BaseModel, Field
from starlette.background import BackgroundTask

from services.console.backends import BackendError, Backends, NotDeployed
from services.console.forms import SPECIALTIES, STAGES, VERDICTS
from services.console.pages import backends, part
from services.console.render import flash, flash_failure, render, unless_role
from services.console.session import Person, PersonDep, check_csrf
from shared.auth import Role

router = APIRouter(prefix="/expert", dependencies=[Depends(check_csrf)])


def _expert(request: Request, person: Person) -> HTMLResponse | None:
    detail = "此页供评审专家使用；请以评审专家身份（专家库中登记的登录名）登录。"
    return unless_role(request, frozenset({Role.EXPERT}), "只有评审专家可以使用此页", detail)


@router.get("", response_class=HTMLResponse, summary="我的评审")
async def panels(request: Request, person: PersonDep) -> HTMLResponse:
    if (refused := _expert(request, person)) is not None:
        return refused
    cases = await part("review", backends(request).get("review", "/cases", person.token, limit=100))
    return render(request, "expert.html", cases=cases, stages=STAGES)


@router.get("/cases/{case_id}", response_class=HTMLResponse, summary="评审案件")
async def case(request: Request, case_id: str, person: PersonDep) -> HTMLResponse:
    if (refused := _expert(request, person)) is not None:
        return refused
    b = backends(request)
    found = await part("review", b.get("review", f"/cases/{case_id}", person.token))
    if found.data is None:
        return render(request, "error.html", status_code=404, title="未找到评审案件", detail=found.missing)
    reading = None
    if found.data["status"] == "panel_drawn":
        reading = await part("intake", _case_file(b, case_id, found.data["project_id"], person.token))
    return render(
        request,
        "case.html",
        case=found.data,
        reading=reading,
        stages=STAGES,
        verdicts=VERDICTS,
        specialties=SPECIALTIES,
    )


async def _pass(b: Backends, case_id: str, token: str) -> dict[str, str]:
    """Review's reading pass for the case, as the header intake reads it from."""
    granted = (await b.call("review", "POST", f"/cases/{case_id}/reading-pass", token)).json()
    return {granted["header"]: granted["token"]}


async def _case_file(b: Backends, case_id: str, project_id: str, token: str) -> Any:
    if not b.deployed("intake"):
        raise NotDeployed("intake")
    shown = await _pass(b, case_id, token)
    answered = await b.call("intake", "GET", f"/projects/{project_id}/case-file", token, headers=shown)
    return answered.json()


@router.get("/cases/{case_id}/materials/{material_id}", summary="下载所评审项目的申报材料")
async def material(request: Request, case_id: str, material_id: str, person: PersonDep) -> Response:
    if (refused := _expert(request, person)) is not None:
        return refused
    b = backends(request)
    try:
        found = await b.get("review", f"/cases/{case_id}", person.token)
        shown = await _pass(b, case_id, person.token)
        path = f"/projects/{found['project_id']}/case-file/{material_id}"
        opened = await b.open("intake", path, person.token, shown)
    except BackendError as exc:
        flash_failure(request, exc)
        return RedirectResponse(f"/expert/cases/{case_id}", status_code=303)
    passed = {k: v for k, v in opened.headers.items() if k.lower() in ("content-type", "content-disposition")}
    return StreamingResponse(opened.aiter_bytes(), headers=passed, background=BackgroundTask(opened.aclose))


class OpinionForm(BaseModel):
    score: int = Field(ge=0, le=100)
    verdict: str
    comments: str = Field(min_length=2, max_length=20000)


@router.post("/cases/{case_id}/opinion", summary="提交评审意见")
async def opinion(
    request: Request, case_id: str, person: PersonDep, form: Annotated[OpinionForm, Form()]
) -> Response:
    return await _send(request, person, f"/cases/{case_id}/opinions", form.model_dump(), "评审意见已提交。")


@router.post("/cases/{case_id}/declination", summary="谢绝或回避")
async def decline(request: Request, case_id: str, person: PersonDep) -> Response:
    return await _send(
        request, person, f"/cases/{case_id}/declination", None, "已谢绝（回避），系统将补抽专家。"
    )


async def _send(request: Request, person: Person, path: str, body: object, done: str) -> Response:
    if (refused := _expert(request, person)) is not None:
        return refused
    case_page = "/expert/cases/" + path.split("/")[2]
    try:
        await backends(request).call("review", "POST", path, person.token, json=body)
    except BackendError as exc:
        flash_failure(request, exc)
        return RedirectResponse(case_page, status_code=303)
    flash(request, done)
    return RedirectResponse(case_page, status_code=303)
