"""The pages everyone signed in shares: the project list and a project's page.

Each part of a page comes from the service that owns it, asked with the person's token; a part
whose service is not deployed, not answering, or has nothing for this person says so and the
rest of the page stands.
"""

from __future__ import annotations

import asyncio
import math
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse

from services.console.backends import LABELS, BackendError, Backends, NotDeployed, Refused
from services.console.forms import PAYMENT_KINDS, new_attempt
from services.console.render import render
from services.console.session import PersonDep, check_csrf
from services.console.timeline import timeline

router = APIRouter(dependencies=[Depends(check_csrf)])

#: where a project list comes from, in order: intake is the register; without it, the services
#: that keep a list of their own
LIST_SOURCES = ("intake", "procurement", "acceptance")
#: a service's events a project's page shows at most (the services' page size)
EVENTS_SHOWN = 200


@dataclass
class Part:
    """One part of a page: what its service answered, or why there is nothing."""

    service: str
    data: Any = None
    error: BackendError | None = None

    @property
    def label(self) -> str:
        return LABELS[self.service]

    @property
    def missing(self) -> str | None:
        """Why the part is empty, said for people; None when it has data."""
        if self.error is None:
            return None
        if isinstance(self.error, Refused) and self.error.status == 404:
            return f"{self.label}服务中尚无此项目的记录"
        if isinstance(self.error, Refused) and self.error.status == 403:
            return f"您的身份无权查看{self.label}服务中的这部分内容"
        return self.error.message


async def part(service: str, call: Awaitable[Any]) -> Part:
    try:
        return Part(service, data=await call)
    except BackendError as exc:
        return Part(service, error=exc)


def _not_found(p: Part) -> bool:
    """A service with no record of the project: nothing to say on the timeline."""
    return isinstance(p.error, Refused) and p.error.status == 404


def backends(request: Request) -> Backends:
    found: Backends = request.app.state.backends
    return found


@router.get("/projects", response_class=HTMLResponse, summary="项目列表")
async def projects(
    request: Request,
    person: PersonDep,
    q: Annotated[str | None, Query(max_length=100)] = None,
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    b = backends(request)
    size = request.app.state.settings.page_size
    source = next((s for s in LIST_SOURCES if b.deployed(s)), None)
    listed = Part(source or "intake", error=NotDeployed("intake"))
    if source is not None:
        params = {"limit": size, "offset": (page - 1) * size, "q": q if source == "intake" else None}
        listed = await part(source, b.get(source, "/projects", person.token, **params))
    total = listed.data["total"] if listed.data else 0
    return render(
        request,
        "projects.html",
        listed=listed,
        items=listed.data["items"] if listed.data else [],
        total=total,
        page=page,
        pages=max(1, math.ceil(total / size)),
        q=q or "",
        searchable=source == "intake",
        without=[LABELS[s] for s in LIST_SOURCES if not b.deployed(s)],
    )


@router.get("/projects/{project_id}", response_class=HTMLResponse, summary="项目")
async def project(request: Request, project_id: str, person: PersonDep) -> HTMLResponse:
    b, token = backends(request), person.token
    path = f"/projects/{project_id}"
    parts = await asyncio.gather(
        part("intake", b.get("intake", path, token)),
        part("review", b.get("review", "/cases", token, project_id=project_id, limit=50)),
        part("procurement", b.get("procurement", path, token)),
        part("acceptance", b.get("acceptance", path, token)),
        part("funding", b.get("funding", f"{path}/gates", token)),
        part("funding", b.get("funding", "/disbursements", token, project_id=project_id, limit=100)),
    )
    intake, review, procurement, acceptance, gates, payments = parts
    events = await asyncio.gather(
        *(part(s, b.get(s, f"{path}/events", token, limit=EVENTS_SHOWN)) for s in LABELS if b.deployed(s))
    )
    known = [p.data for p in (intake, procurement, acceptance) if isinstance(p.data, dict)]
    if not known and not gates.data:
        return render(request, "not_found.html", status_code=404, project_id=project_id, parts=parts)
    summary = known[0] if known else {"id": project_id, "title": project_id}
    return render(
        request,
        "project.html",
        project=summary,
        intake=intake,
        review=review,
        procurement=procurement,
        acceptance=acceptance,
        gates=gates,
        payments=payments,
        timeline=timeline((p.service, p.data) for p in events if p.data),
        timeline_cut=[p.label for p in events if p.data and p.data["total"] > len(p.data["items"])],
        timeline_gaps=[p for p in events if p.error is not None and not _not_found(p)],
        timeline_absent=[label for s, label in LABELS.items() if not b.deployed(s)],
        attempt=new_attempt(),
        payment_kinds=PAYMENT_KINDS,
    )
