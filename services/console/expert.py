"""专家: an expert's panels, a case's facts and the opinion form.

The review service decides what an expert sees (only the cases they are seated on, by their
login) and whether an opinion is taken; the console shows that and says a refusal plainly.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from services.console.backends import BackendError
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
    found = await part("review", backends(request).get("review", f"/cases/{case_id}", person.token))
    if found.data is None:
        return render(request, "error.html", status_code=404, title="未找到评审案件", detail=found.missing)
    return render(
        request, "case.html", case=found.data, stages=STAGES, verdicts=VERDICTS, specialties=SPECIALTIES
    )


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
