"""Pages from the Jinja2 templates beside this module, with what every page shows: the person,
the navigation for their role, the form token, and the services this region deployed."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from services.console.backends import LABELS, BackendError, Refused
from services.console.forms import wan_from_fen
from services.console.session import ROLE_LABELS, csrf_token, person_of
from shared.auth import Role

HERE = Path(__file__).parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
templates = Jinja2Templates(directory=HERE / "templates")


def local_time(value: str | None) -> str:
    """An instant as the services give it (ISO 8601, UTC) in Beijing time, to the minute."""
    if not value:
        return ""
    try:
        instant = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return value
    if instant.tzinfo is None:
        return value
    return instant.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


templates.env.filters["local"] = local_time
templates.env.filters["wan"] = wan_from_fen
templates.env.tests["in"] = lambda value, text: value in text

#: the navigation: (path, label, the roles it is for; empty for everyone signed in)
NAV: list[tuple[str, str, frozenset[Role]]] = [
    ("/projects", "项目", frozenset()),
    ("/declare", "申报", frozenset({Role.APPLICANT})),
    ("/workbench", "工作台", frozenset({Role.AUTHORITY})),
    ("/expert", "我的评审", frozenset({Role.EXPERT})),
    ("/finance", "拨付", frozenset({Role.FINANCE, Role.AUTHORITY, Role.AUDITOR})),
    ("/audit", "审计", frozenset({Role.AUDITOR, Role.AUTHORITY})),
]


def flash(request: Request, message: str, level: str = "ok") -> None:
    """A message for the next page this person sees (after a redirect): ok, warn or error."""
    request.session["flash"] = [*request.session.get("flash", []), [level, message]]


def flash_failure(request: Request, error: BackendError) -> None:
    """What a service refused and why, each reason with its articles, for the next page."""
    if not isinstance(error, Refused):
        flash(request, error.message, "error")
        return
    said = [f"{error.message}{'：' + error.problem['detail'] if error.problem.get('detail') else ''}"]
    for reason in error.reasons:
        message, articles = reason.get("message") or reason.get("code", ""), reason.get("articles") or []
        missing = [a for a in articles if a not in message]
        said.append(message + (f"（{'、'.join(missing)}）" if missing else ""))
    said += [f"{e.get('title') or e.get('field')}：{e.get('msg')}" for e in error.errors]
    flash(request, "；".join(dict.fromkeys(s for s in said if s)), "error")


def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    person = person_of(request)
    role = Role(person.role) if person else None
    nav = [(path, label) for path, label, roles in NAV if person and (not roles or role in roles)]
    settings = request.app.state.settings
    page = {
        "person": person,
        "nav": nav,
        "path": request.url.path,
        "csrf_token": csrf_token(request),
        "role_labels": {r.value: label for r, label in ROLE_LABELS.items()},
        "services": {s: (LABELS[s], settings.url(s) is not None) for s in LABELS},
        "environment": settings.environment,
        "flashes": request.session.pop("flash", []),
        "places": {code: request.app.state.policy[code].name for code in request.app.state.policy.codes},
    }
    return templates.TemplateResponse(request, name, {**page, **context}, status_code=status_code)


def unless_role(request: Request, roles: frozenset[Role], title: str, detail: str) -> HTMLResponse | None:
    """A 403 page saying who the page is for, unless the signed-in person holds one of `roles`."""
    person = person_of(request)
    if person is not None and Role(person.role) in roles:
        return None
    return render(request, "error.html", status_code=403, title=title, detail=detail)
