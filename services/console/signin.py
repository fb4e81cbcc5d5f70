"""Signing in and out.

In development and tests a page lets one pick a role, an agency and a jurisdiction, and the
console issues a development token for them (signed with GOVIT_JWT_SECRET, as `govit token`
does). In production that page does not exist: people sign in with the agency's identity
provider (OIDC).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from services.console.render import render
from services.console.session import Person, back_to, check_csrf, sign_in, sign_out
from shared.auth import Role
from shared.policy import PolicyRegistry
from shared.policy.pack import JURISDICTIONS

router = APIRouter(dependencies=[Depends(check_csrf)])

#: the roles a development sign-in offers (admin acts for no jurisdiction: not for pages)
ROLES = (Role.APPLICANT, Role.AUTHORITY, Role.EXPERT, Role.FINANCE, Role.AUDITOR)


def _dev_allowed(request: Request) -> bool:
    return bool(request.app.state.settings.environment != "production")


def _places(request: Request) -> list[tuple[str, str]]:
    policy: PolicyRegistry = request.app.state.policy
    return [(code, policy[code].name) for code in JURISDICTIONS if code in policy]


@router.get("/signin", response_class=HTMLResponse, summary="登录")
async def signin_page(request: Request, after: str | None = None) -> HTMLResponse:
    return render(
        request,
        "signin.html",
        after=back_to(after),
        dev=_dev_allowed(request),
        oidc=request.app.state.oidc is not None,
        roles=[(r.value, r) for r in ROLES],
        choices=_places(request),
        problems=[],
    )


@router.post("/signin", response_class=HTMLResponse, summary="登录（开发环境）")
async def signin(
    request: Request,
    role: Annotated[str, Form()],
    name: Annotated[str, Form(max_length=64)] = "",
    agency: Annotated[str, Form(max_length=128)] = "",
    jurisdiction: Annotated[str, Form()] = "",
    after: Annotated[str, Form()] = "/projects",
) -> Response:
    if not _dev_allowed(request):
        return render(request, "error.html", status_code=404, title="生产环境请通过统一身份认证登录")
    problems = []
    if role not in {r.value for r in ROLES}:
        problems.append("请选择身份")
    if role == Role.APPLICANT and not agency.strip():
        problems.append("建设单位须填写单位名称")
    if jurisdiction not in {code for code, _ in _places(request)}:
        problems.append("请选择辖区")
    if not name.strip():
        problems.append("请填写姓名")
    if problems:
        return render(
            request,
            "signin.html",
            status_code=422,
            after=back_to(after),
            dev=True,
            oidc=request.app.state.oidc is not None,
            roles=[(r.value, r) for r in ROLES],
            choices=_places(request),
            problems=problems,
            chosen={"role": role, "name": name, "agency": agency, "jurisdiction": jurisdiction},
        )
    who = Role(role)
    hours = request.app.state.settings.session_hours
    token = request.app.state.tokens.issue(
        sub=name.strip(),
        role=who,
        agency=agency.strip() if who is Role.APPLICANT else None,
        name=name.strip(),
        jurisdictions=[jurisdiction],
        ttl=timedelta(hours=hours),
    )
    person = Person(
        token=token,
        role=who.value,
        sub=name.strip(),
        name=name.strip(),
        agency=agency.strip() if who is Role.APPLICANT else None,
        jurisdictions=(jurisdiction,),
    )
    sign_in(request, person)
    return RedirectResponse(back_to(after), status_code=303)


@router.post("/signout", summary="退出")
async def signout(request: Request) -> RedirectResponse:
    sign_out(request)
    return RedirectResponse("/signin", status_code=303)
