"""The authorization matrix: every endpoint of every service × every role, no token, and a forged one.

Each endpoint must name the roles it admits; every other role gets 403, no token 401, and no
combination gives a 5xx. Then role × jurisdiction × endpoint: every role an endpoint admits, acting
for another jurisdiction, is refused what belongs to zhonglou (below). Which agency an applicant
acts for is checked per service in its own tests (another agency's project is not found).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from httpx import AsyncClient

from services.acceptance.main import create_app as acceptance_app
from services.acceptance.settings import AcceptanceSettings
from services.funding.main import create_app as funding_app
from services.funding.settings import FundingSettings
from services.intake.main import create_app as intake_app
from services.intake.settings import IntakeSettings
from services.procurement.main import create_app as procurement_app
from services.procurement.settings import ProcurementSettings
from services.review.main import create_app as review_app
from services.review.settings import ReviewSettings
from shared import reading_pass
from shared.auth import Role
from shared.bus import JetStreamBus
from shared.consume import suite_source
from shared.contracts import Event
from shared.contracts.intake import ProjectApproved, ProjectDeclared, ProjectIncludedInPlan, ProjectScreened
from shared.contracts.procurement import ConstructionCompleted
from shared.contracts.review import ReviewConcluded
from tests.conftest import bearer, eventually, real_bus, running, unique
from tests.intake_flow import declare, publish, publish_plan, screen

APPS = {
    "intake": (intake_app, IntakeSettings),
    "review": (review_app, ReviewSettings),
    "procurement": (procurement_app, ProcurementSettings),
    "acceptance": (acceptance_app, AcceptanceSettings),
    "funding": (funding_app, FundingSettings),
}
PUBLIC = {"/healthz", "/readyz", "/metrics"}
SAMPLES = {"jurisdiction": "zhonglou", "year": "2027", "credit_code": "91340000MA2XXXXX1A"}
TOKENS = {
    Role.APPLICANT: bearer(Role.APPLICANT, "某区教育局"),
    Role.AUTHORITY: bearer(Role.AUTHORITY),
    Role.EXPERT: bearer(Role.EXPERT, sub="某专家"),
    Role.FINANCE: bearer(Role.FINANCE),
    Role.AUDITOR: bearer(Role.AUDITOR),
}


def roles_of(route: APIRoute) -> frozenset[Role] | None:
    """The roles the route's `require(...)` admits, found in its dependency tree."""
    stack = list(route.dependant.dependencies)
    while stack:
        dependency = stack.pop()
        found = getattr(dependency.call, "roles", None)
        if found is not None:
            return frozenset(found)
        stack.extend(dependency.dependencies)
    return None


def api_routes(routes: list[Any], prefix: str = "") -> list[tuple[str, APIRoute]]:
    """(full path, route) of every API route, through included routers."""
    found: list[tuple[str, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((prefix + route.path, route))
        elif hasattr(route, "original_router"):
            extra = getattr(getattr(route, "include_context", None), "prefix", "")
            found += api_routes(route.original_router.routes, prefix + extra)
    return found


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLES.get(m.group(1), "nothing-here"), path)


@pytest.fixture(params=list(APPS))
async def service(
    request: pytest.FixtureRequest, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[tuple[FastAPI, AsyncClient]]:
    create, settings_cls = APPS[str(request.param)]
    settings: Any = settings_cls(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    app = create(settings)
    async with real_bus(nats_url, isolation), running(app) as http:
        yield app, http


@pytest.mark.services(by="service")
async def test_every_endpoint_admits_only_its_roles(service: tuple[FastAPI, AsyncClient]) -> None:
    app, http = service
    routes = [(p, r) for p, r in api_routes(app.routes) if p not in PUBLIC]
    assert routes
    checked = 0
    for full, route in routes:
        allowed = roles_of(route)
        assert allowed, f"{full} names no roles"
        for method in route.methods:
            path = concrete(full)
            body = {} if method in {"POST", "PUT", "PATCH"} else None

            async def call(
                headers: dict[str, str], method: str = method, path: str = path, body: Any = body
            ) -> Any:
                return await http.request(method, path, headers=headers, json=body)

            anonymous = await call({})
            assert anonymous.status_code == 401, f"{method} {path} without a token: {anonymous.status_code}"
            forged = await call({"Authorization": "Bearer forged.token.value"})
            assert forged.status_code == 401, f"{method} {path} with a forged token: {forged.status_code}"
            for role, headers in TOKENS.items():
                response = await call(headers)
                assert response.status_code < 500, f"{method} {path} as {role}: {response.text}"
                if role in allowed:  # may still be 403 for another reason (an expert not in the pool)
                    refused = response.status_code == 403 and response.json()["code"] == "forbidden_role"
                    assert response.status_code != 401 and not refused, f"{method} {path} refused {role}"
                else:
                    assert response.status_code == 403, f"{method} {path} let {role} through"
                    assert response.json()["code"] == "forbidden_role"
                checked += 1
    assert checked >= len(routes) * len(TOKENS)


@pytest.mark.services(by="service")
async def test_out_of_range_numbers_and_odd_ids_are_refused_never_a_5xx(
    service: tuple[FastAPI, AsyncClient],
) -> None:
    app, http = service
    huge = "99999999999999999999"
    for full, route in api_routes(app.routes):
        if full in PUBLIC:
            continue
        allowed = roles_of(route) or frozenset()
        role = next(
            (r for r in (Role.AUTHORITY, Role.FINANCE, Role.APPLICANT, Role.EXPERT) if r in allowed), None
        )
        if role is None:
            continue
        for method in route.methods:
            for filler in (huge, "%00", "-1"):
                path = re.sub(r"\{\w+\}", filler, full)
                query = {"offset": huge} if method == "GET" else {}
                body = {} if method in {"POST", "PUT", "PATCH"} else None
                response = await http.request(method, path, params=query, headers=TOKENS[role], json=body)
                assert response.status_code < 500, f"{method} {path} {query}: {response.text}"


# -- role × jurisdiction × endpoint ---------------------------------------------------------------------
#
# Each service holds a zhonglou project's data (a project, a case and its panel, a plan, a contract and a
# change, a disbursement, the audit entries of them all). Then every endpoint is called by every role it
# admits, with a token of lhasa: a command naming zhonglou or one of its records is refused with 403
# forbidden_jurisdiction or finds nothing (404, as a missing one); a read is refused, finds nothing or
# answers without a trace of zhonglou (a list, a project's sub-list, a scan's count); and nothing is
# changed (the service's audit log does not grow). The same reads by zhonglou's people find the data,
# so the refusals are the scope's and not an empty database's.

HOME, ELSEWHERE = "zhonglou", "lhasa"
ADMIN = bearer(Role.ADMIN, sub="管理员")
WAN = 1_000_000
CREDIT_CODE = "91320400MA1XXXXX0A"
NOW = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)  # before zhonglou's plan closes (zhonglou §6)
TODAY = NOW.date().isoformat()


@dataclass
class Seeded:
    values: dict[str, str]  # path parameter -> a zhonglou record's id
    markers: set[str]  # ids and names of zhonglou's records, never to be seen from lhasa
    agency: str  # the zhonglou project's agency
    expert: str = "无此专家"  # the login of an expert of zhonglou's pool who sits on its panel
    # Path parameters of records zhonglou's pack does not provide (a purchase outside the plan is
    # lhasa §10's): lhasa's people still find nothing of zhonglou there; zhonglou's own read nothing.
    none_at_home: frozenset[str] = frozenset()
    # Headers the expert shows beside their token: review's reading pass for the project, at intake.
    expert_headers: dict[str, str] = field(default_factory=dict)


def _as(role: Role, seeded: Seeded, jurisdiction: str) -> dict[str, str]:
    """A token of the role acting for one jurisdiction, as zhonglou's own people are (the same
    agency, the same expert), so that only the jurisdiction differs."""
    if role is Role.APPLICANT:
        return bearer(role, seeded.agency, jurisdictions=[jurisdiction])
    if role is Role.EXPERT:
        return bearer(role, sub=seeded.expert, jurisdictions=[jurisdiction]) | seeded.expert_headers
    return bearer(role, sub=f"{jurisdiction}-{role.value}", jurisdictions=[jurisdiction])


async def _send(bus: JetStreamBus, *events: Event) -> None:
    for event in events:
        await publish(bus, event, suite_source(event.type))


def _declared(project: str, agency: str) -> ProjectDeclared:
    return ProjectDeclared(
        project_id=project,
        jurisdiction=HOME,
        agency=agency,
        title="智慧教育平台",
        kind="construction",
        amount_fen=200 * WAN,
        plan_year=2026,
    )


def _approved(project: str, agency: str) -> list[Event]:
    return [
        _declared(project, agency),
        ProjectIncludedInPlan(
            project_id=project, jurisdiction=HOME, plan_year=2026, rank=1, plan_document="钟计〔2026〕1号"
        ),
        ReviewConcluded(
            project_id=project, jurisdiction=HOME, case_id=unique("c"), stage="demonstration", verdict="pass"
        ),
        ProjectApproved(project_id=project, jurisdiction=HOME, approved_amount_fen=200 * WAN, plan_year=2026),
    ]


def _ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), f"{response.request.url}: {response.text}"
    return response.json()


async def _seed_intake(http: AsyncClient, bus: JetStreamBus) -> Seeded:
    agency = unique("钟楼区教育局")
    project = await declare(http, agency, HOME)
    _ok(await screen(http, project))
    _ok(await publish_plan(http, HOME, project["plan_year"], project["id"]))
    home = bearer(Role.AUTHORITY, jurisdictions=[HOME])
    detail = _ok(await http.get(f"/projects/{project['id']}", headers=home))
    listed = _ok(await http.get("/agencies", params={"jurisdiction": HOME}, headers=home))
    agency_id = next(a["id"] for a in listed["items"] if a["name"] == agency)
    values = {
        "project_id": project["id"],
        "agency_id": agency_id,
        "material_id": detail["materials"][0]["id"],
        "jurisdiction": HOME,
        "year": str(project["plan_year"]),
    }
    expert = unique("钟楼专家")
    granted = reading_pass.issue(
        IntakeSettings(), expert, project_id=project["id"], jurisdiction=HOME, case_id="c"
    )
    shown = {reading_pass.HEADER: reading_pass.token(IntakeSettings(), granted)}
    return Seeded(values, {project["id"], agency_id, agency}, agency, expert=expert, expert_headers=shown)


async def _seed_review(http: AsyncClient, bus: JetStreamBus) -> Seeded:
    home = bearer(Role.AUTHORITY, jurisdictions=[HOME])
    experts = []
    for specialty in ("software", "network", "security", "cost", "data", "archives"):
        for n in range(4):
            body = {
                "jurisdiction": HOME,
                "name": f"钟楼{specialty}专家{n}",
                "employer": f"{specialty}研究院{n}",
                "specialties": [specialty],
                "subject": unique("expert-"),
            }
            experts.append(_ok(await http.post("/experts", headers=home, json=body), 201))
    agency = unique("钟楼区教育局")
    opened = {"project_id": unique("p"), "jurisdiction": HOME, "stage": "demonstration", "agency": agency}
    case = _ok(await http.post("/cases", headers=home, json=opened), 201)
    drawn = _ok(await http.post(f"/cases/{case['id']}/draw", headers=home))
    seated = next(s["expert_id"] for s in drawn["seats"] if s["state"] == "seated")
    subject = next(e["subject"] for e in experts if e["id"] == seated)
    values = {"case_id": case["id"], "expert_id": seated, "project_id": opened["project_id"]}
    return Seeded(values, {case["id"], seated, opened["project_id"]}, agency, expert=subject)


async def _seed_procurement(http: AsyncClient, bus: JetStreamBus) -> Seeded:
    project, agency = unique("p"), unique("钟楼区教育局")
    await _send(bus, *_approved(project, agency))
    home = bearer(Role.AUTHORITY, jurisdictions=[HOME])

    async def approved() -> bool:
        found = await http.get(f"/projects/{project}", headers=home)
        return found.status_code == 200 and found.json()["status"] == "approved"

    await eventually(approved, what="procurement to record the approval")
    unit = bearer(Role.APPLICANT, agency, jurisdictions=[HOME])
    contract = {
        "role": "construction",
        "counterparty": "某某信息技术有限公司",
        "credit_code": CREDIT_CODE,
        "amount_fen": 150 * WAN,
        "signed_on": TODAY,
        "milestones": [{"name": "终验款", "stage": "final_acceptance", "share_percent": "100"}],
    }
    filed = _ok(await http.post(f"/projects/{project}/contracts", headers=unit, json=contract), 201)
    change = _ok(await http.post(f"/projects/{project}/changes", headers=unit, json=CHANGE), 201)
    values = {"project_id": project, "change_id": change["id"], "jurisdiction": HOME}
    markers = {project, filed["id"], change["id"], agency}
    return Seeded(values, markers, agency, none_at_home=frozenset({"purchase_id"}))


async def _seed_acceptance(http: AsyncClient, bus: JetStreamBus) -> Seeded:
    project, agency = unique("p"), unique("钟楼区教育局")
    done = ConstructionCompleted(
        project_id=project,
        jurisdiction=HOME,
        agency=agency,
        completed_on=NOW.date(),
        contract_total_fen=150 * WAN,
        approved_total_fen=200 * WAN,
    )
    await _send(bus, _declared(project, agency), done)
    home = bearer(Role.AUTHORITY, jurisdictions=[HOME])

    async def completed() -> bool:
        found = await http.get(f"/projects/{project}", headers=home)
        return found.status_code == 200 and found.json()["status"] == "completed"

    await eventually(completed, what="acceptance to record the completion")
    return Seeded({"project_id": project}, {project, agency}, agency)


async def _seed_funding(http: AsyncClient, bus: JetStreamBus) -> Seeded:
    project, agency = unique("p"), unique("钟楼区教育局")
    await _send(bus, *_approved(project, agency))
    home = bearer(Role.FINANCE, jurisdictions=[HOME])

    async def approved() -> bool:
        found = await http.get(f"/projects/{project}", headers=home)
        return found.status_code == 200 and bool(found.json()["approved"])

    await eventually(approved, what="funding to record the approval")
    unit = bearer(Role.APPLICANT, agency, jurisdictions=[HOME])
    asked = {"amount_fen": 10 * WAN, "purpose": "首期建设资金"}
    held = _ok(await http.post(f"/projects/{project}/disbursements", headers=unit, json=asked), 201, 202)
    values = {"project_id": project, "disbursement_id": held["id"]}
    return Seeded(values, {project, held["id"], agency}, agency)


SEED = {
    "intake": _seed_intake,
    "review": _seed_review,
    "procurement": _seed_procurement,
    "acceptance": _seed_acceptance,
    "funding": _seed_funding,
}
CHANGE = {
    "description": "调整建设内容",
    "scope_effect": "增加模块",
    "total_delta_fen": 0,
    "adjustment_fen": WAN,
}
# A valid body for every command, so that only the caller's scope can refuse it.
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/agencies"): {"jurisdiction": HOME, "name": "钟楼区某局", "level": "district"},
    ("PATCH", "/agencies/{agency_id}"): {"duties_unmet": True},
    ("POST", "/projects"): {
        "jurisdiction": HOME,
        "title": "某平台",
        "kind": "construction",
        "amount_fen": WAN,
    },
    ("PATCH", "/projects/{project_id}"): {"title": "改名的平台"},
    ("POST", "/projects/{project_id}/withdrawal"): {"reason": "不再建设"},
    ("POST", "/projects/{project_id}/signoffs"): {"signoff": "city_review", "document_ref": "审〔2026〕1号"},
    ("POST", "/projects/{project_id}/approval"): {
        "approval_number": "批〔2026〕1号",
        "approved_amount_fen": WAN,
    },
    ("POST", "/projects/{project_id}/rejection"): {"reason": "不予批复"},
    ("POST", "/projects/{project_id}/termination-decision"): {
        "decision": "terminate",
        "document_ref": "钟〔2026〕1号",
    },
    ("POST", "/projects/{project_id}/design-approval"): {"approval_number": "初设〔2026〕1号"},
    ("POST", "/projects/{project_id}/rectification-orders"): {
        "finding": "未按要求共享数据",
        "due_on": "2099-01-01",
        "document_ref": "整改〔2026〕1号",
    },
    ("POST", "/projects/{project_id}/rectification-orders/{order_id}/review"): {
        "compliant": True,
        "document_ref": "认定〔2026〕1号",
    },
    ("POST", "/projects/{project_id}/rectification-orders/{order_id}/measures"): {
        "measure": "notify",
        "document_ref": "通报〔2026〕1号",
    },
    ("POST", "/projects/{project_id}/oversight-measures/{measure_id}/lift"): {
        "document_ref": "解除〔2026〕1号"
    },
    ("POST", "/disbursements/{disbursement_id}/exception"): {
        "exceptions": [{"code": "om_within_grace_years", "reason": "例外", "document_ref": "财〔2026〕1号"}]
    },
    ("PUT", "/plans/{jurisdiction}/{year}"): {"ranking": []},
    ("POST", "/plans/{jurisdiction}/{year}/publication"): {"document": "钟计〔2026〕9号"},
    ("POST", "/experts"): {"jurisdiction": HOME, "name": "王工", "employer": "某院", "specialties": ["data"]},
    ("PUT", "/experts/{expert_id}/status"): {"status": "blacklisted", "reason": "收受好处"},
    ("POST", "/cases"): {
        "project_id": "p-x",
        "jurisdiction": HOME,
        "stage": "demonstration",
        "agency": "某局",
    },
    ("PUT", "/cases/{case_id}/parties"): {"parties": ["某公司"]},
    ("PUT", "/cases/{case_id}/assessment"): {"text": "第三方评估意见"},
    ("POST", "/cases/{case_id}/report"): {"document": "评审报告〔2026〕1号"},
    ("POST", "/cases/{case_id}/opinions"): {"score": 90, "verdict": "pass", "comments": "同意"},
    ("POST", "/projects/{project_id}/requirements"): {"summary": "采购需求"},
    ("POST", "/projects/{project_id}/requirements/review"): {"approved": True},
    ("POST", "/projects/{project_id}/tenders"): {
        "method": "public_tender",
        "awarded_on": TODAY,
        "winner": "某某信息技术有限公司",
        "winner_credit_code": CREDIT_CODE,
        "amount_fen": WAN,
    },
    ("POST", "/projects/{project_id}/contracts"): {
        "role": "supervision",
        "counterparty": "某某监理有限公司",
        "credit_code": CREDIT_CODE,
        "amount_fen": WAN,
        "signed_on": TODAY,
        "milestones": [{"name": "全款", "stage": "signing", "share_percent": "100"}],
    },
    ("POST", "/projects/{project_id}/reports"): {"kind": "progress", "period": "2026", "summary": "进度"},
    ("POST", "/projects/{project_id}/exceptions"): {
        "code": "no_supervisor",
        "reason": "例外",
        "document_ref": "钟〔2026〕1号",
    },
    ("POST", "/purchases"): {
        "jurisdiction": HOME,
        "title": "办公楼网络改造",
        "category": "network_renovation",
        "amount_fen": WAN,
        "supplier": "某某信息技术有限公司",
        "credit_code": CREDIT_CODE,
        "procured_on": TODAY,
    },
    ("POST", "/purchases/{purchase_id}/filing"): {"materials": "备案材料"},
    ("POST", "/projects/{project_id}/changes"): CHANGE,
    ("POST", "/changes/{change_id}/decision"): {"approve": True},
    ("PUT", "/firms/{jurisdiction}/{credit_code}"): {"name": "某某信息技术有限公司", "blacklisted": False},
    ("POST", "/projects/{project_id}/initial-acceptance"): {
        "held_on": TODAY,
        "passed": True,
        "findings": "合格",
    },
    ("POST", "/projects/{project_id}/trial-run"): {"started_on": TODAY},
    ("POST", "/projects/{project_id}/data-sharing"): {"catalogue": ["目录"], "items": ["学籍"]},
    ("POST", "/projects/{project_id}/data-sharing/decision"): {"decision": "confirmed"},
    ("POST", "/projects/{project_id}/attestations"): {
        "attestation": "mlps",
        "compliant": True,
        "reference": "等保〔2026〕1号",
        "issued_on": TODAY,
    },
    ("POST", "/projects/{project_id}/audit-report"): {"reference": "审〔2026〕1号", "issued_on": TODAY},
    ("POST", "/projects/{project_id}/acceptance-delay"): {"until": TODAY, "reason": "设备未到"},
    ("POST", "/projects/{project_id}/acceptance-delay/decision"): {"approve": True},
    ("POST", "/projects/{project_id}/final-acceptance/application"): {"materials": {}},
    ("POST", "/projects/{project_id}/final-acceptance/admission"): {"admit": True},
    ("POST", "/projects/{project_id}/final-acceptance/conclusion"): {"passed": True},
    ("PUT", "/projects/{project_id}/final-acceptance/rectification"): {"items": ["整改"], "due_on": TODAY},
    ("POST", "/projects/{project_id}/acceptance-report"): {"reference": "验〔2026〕1号"},
    ("POST", "/projects/{project_id}/evaluations"): {
        "evaluation": "self",
        "period": "2026",
        "summary": "良好",
    },
    ("POST", "/projects/{project_id}/disbursements"): {"amount_fen": WAN, "purpose": "建设资金"},
    ("POST", "/projects/{project_id}/om-applications"): {"amount_fen": WAN, "budget_year": 2027},
    ("POST", "/projects/{project_id}/settlement"): {"final_cost_fen": WAN, "settled_on": TODAY},
    ("POST", "/projects/{project_id}/reclaims/{reclaim_id}/completion"): {"returned_fen": WAN},
}
# The event each service records by hand in the test (one it consumes), about zhonglou.
MANUAL: dict[str, Event] = {
    "intake": ReviewConcluded(
        project_id="p-m", jurisdiction=HOME, case_id="c-m", stage="demonstration", verdict="pass"
    ),
    "review": ProjectScreened(project_id="p-m", jurisdiction=HOME, agency="某局", accepted=True),
    "procurement": _declared("p-m", "某局"),
    "acceptance": _declared("p-m", "某局"),
    "funding": _declared("p-m", "某局"),
}


def _body(service: str, method: str, template: str) -> dict[str, Any] | None:
    if template == "/manual-events":
        event = MANUAL[service]
        data = event.model_dump(mode="json", exclude={"type"})
        return {"type": event.type, "data": data, "document_ref": "钟楼区某文件"}
    return BODIES.get((method, template), {} if method in {"POST", "PUT", "PATCH"} else None)


@pytest.fixture(params=list(APPS))
async def seeded(
    request: pytest.FixtureRequest, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[tuple[str, FastAPI, AsyncClient, Seeded]]:
    name = str(request.param)
    create, settings_cls = APPS[name]
    settings: Any = settings_cls(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'db.sqlite'}",
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        manual_events=[MANUAL[name].type],
        **isolation,
    )
    app = create(settings, clock=lambda: NOW)
    async with real_bus(nats_url, isolation, lambda: NOW) as bus, running(app) as http:
        yield name, app, http, await SEED[name](http, bus)


async def _audited(http: AsyncClient) -> int:
    """How many audit entries the service holds, once they stop coming (events, jobs at start)."""
    last = -1
    while True:
        total = int((await http.get("/audit", params={"limit": 1}, headers=ADMIN)).json()["total"])
        if total == last:
            return total
        last = total
        await asyncio.sleep(0.5)


async def _call(
    http: AsyncClient, service: str, method: str, full: str, path: str, who: dict[str, str]
) -> Any:
    if method == "POST" and full.endswith("/materials"):
        files = {"file": ("a.pdf", b"%PDF-1.7", "application/pdf")}
        return await http.post(path, headers=who, data={"material": "declaration_form"}, files=files)
    return await http.request(method, path, headers=who, json=_body(service, method, full))


@pytest.mark.services(by="seeded")
async def test_another_jurisdictions_people_neither_act_on_nor_see_its_data(
    seeded: tuple[str, FastAPI, AsyncClient, Seeded],
) -> None:
    service, app, http, data = seeded
    before = await _audited(http)
    checked = 0
    for full, route in api_routes(app.routes):
        if full in PUBLIC:
            continue
        allowed = sorted(roles_of(route) or ())
        path = re.sub(r"\{(\w+)\}", lambda m: data.values.get(m.group(1), "nothing-here"), full)
        path = path.replace("nothing-here", CREDIT_CODE) if full.endswith("{credit_code}") else path
        for method in route.methods:
            for role in allowed:
                response = await _call(http, service, method, full, path, _as(role, data, ELSEWHERE))
                what = (
                    f"{method} {full} as {role} of {ELSEWHERE}: {response.status_code} {response.text[:300]}"
                )
                assert response.status_code < 500, what
                if method != "GET" and not full.endswith("-scan"):
                    # A command on a zhonglou record or naming zhonglou: refused, or not found.
                    assert response.status_code in (403, 404), what
                else:
                    # A read or a scan: refused or not found, or answered without a trace of zhonglou
                    # (204: nothing to publish).
                    assert response.status_code in (200, 204, 403, 404), what
                    if response.status_code == 200:
                        assert not [m for m in data.markers if m in response.text], what
                if response.status_code == 403:
                    assert response.json()["code"] == "forbidden_jurisdiction", what
                checked += 1
            if method == "GET" and not any(f"{{{name}}}" in full for name in data.none_at_home):
                await _reads_home(http, full, path, allowed, data, route)
    assert checked > 0
    # Nothing any of them asked changed anything.
    assert await _audited(http) == before, f"{service}: another jurisdiction's request changed something"


async def _reads_home(
    http: AsyncClient, full: str, path: str, allowed: list[Role], data: Seeded, route: APIRoute
) -> None:
    """The same reads by zhonglou's own people succeed; a list filtered by zhonglou's code is
    refused to the others."""
    for role in allowed:
        home = await http.get(path, headers=_as(role, data, HOME))
        assert home.status_code == 200, f"GET {full} as {role} of {HOME}: {home.text[:300]}"
        if "jurisdiction" in {p.name for p in route.dependant.query_params}:
            who = _as(role, data, ELSEWHERE)
            filtered = await http.get(path, params={"jurisdiction": HOME}, headers=who)
            assert filtered.status_code == 403, f"GET {full}?jurisdiction={HOME} as {role}: {filtered.text}"
            assert filtered.json()["code"] == "forbidden_jurisdiction"
