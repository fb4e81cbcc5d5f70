"""Steps of a project's life as its users take them, through the five running services."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from httpx import Response

from services.acceptance import domain as acceptance_rules
from shared.auth import Role
from shared.policy import load_registry
from tests.conftest import bearer, eventually, unique
from tests.e2e.conftest import Suite
from tests.intake_flow import declare, events_of, publish_plan, screen, upload_all

POLICY = load_registry()
SHANGHAI = ZoneInfo("Asia/Shanghai")
WAN = 1_000_000  # 1万元 in fen
SPECIALTIES = ("software", "network", "security", "cost", "data", "archives")


def authority(jurisdiction: str) -> dict[str, str]:
    """The authority of one jurisdiction: each walk acts with its own jurisdiction's people."""
    return bearer(Role.AUTHORITY, sub=f"{jurisdiction}主管部门审核员", jurisdictions=[jurisdiction])


def finance(jurisdiction: str) -> dict[str, str]:
    return bearer(Role.FINANCE, sub=f"{jurisdiction}财政局", jurisdictions=[jurisdiction])


def unit(project: dict[str, Any]) -> dict[str, str]:
    return bearer(
        Role.APPLICANT, project["agency"], sub="建设单位经办人", jurisdictions=[project["jurisdiction"]]
    )


def at(day: date, hour: int = 10) -> datetime:
    return datetime(day.year, day.month, day.day, hour, tzinfo=SHANGHAI)


def body(response: Response, *codes: int) -> Any:
    assert response.status_code in (codes or (200, 201)), f"{response.request.url}: {response.text}"
    return response.json()


async def until(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    return await eventually(check, timeout=30, what=what)


async def state(s: Suite, jurisdiction: str, service: str, path: str, **expect: Any) -> dict[str, Any]:
    """GET path on a service (as the jurisdiction's authority, finance for funding) until every
    expected field has its value."""
    who = finance(jurisdiction) if service == "funding" else authority(jurisdiction)

    async def reached() -> dict[str, Any] | None:
        response = await s.clients[service].get(path, headers=who)
        if response.status_code != 200:
            return None
        found: dict[str, Any] = response.json()
        return found if all(found.get(k) == v for k, v in expect.items()) else None

    return dict(await until(reached, f"{service} {path} {expect}"))


async def events(s: Suite, project: dict[str, Any]) -> list[str]:
    return [kind for kind, _ in await events_of(s.bus, project["id"])]


async def event_data(s: Suite, project: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    return [d for kind, d in await events_of(s.bus, project["id"]) if kind == event_type]


# -- review: the pool and a passing panel -------------------------------------------------------------


async def expert_pool(s: Suite, *jurisdictions: str) -> None:
    """Into the pool of each jurisdiction (those whose packs have panels, by default), four experts
    of each specialty, each from an employer of their own."""
    for j in jurisdictions or [j for j in POLICY.codes if POLICY.rule(j, "review.panel").applies]:
        listed = body(await s.review.get("/experts", params={"jurisdiction": j}, headers=authority(j)))
        if listed["total"] >= 4 * len(SPECIALTIES):
            continue
        for specialty in SPECIALTIES:
            for n in range(4):
                body(
                    await s.review.post(
                        "/experts",
                        headers=authority(j),
                        json={
                            "jurisdiction": j,
                            "name": f"{j}{specialty}专家{n}",
                            "employer": f"{j}{specialty}研究院{n}",
                            "title": "高级工程师",
                            "specialties": [specialty],
                            "subject": unique("expert-"),
                        },
                    ),
                    201,
                )


async def panel(s: Suite, project: dict[str, Any], stage: str, verdict: str = "pass") -> dict[str, Any]:
    """The case review opened for the project at `stage`: drawn from the jurisdiction's pool, and
    every seated expert's verdict."""
    j = project["jurisdiction"]
    who = authority(j)

    async def opened() -> dict[str, Any] | None:
        found = body(await s.review.get("/cases", params={"project_id": project["id"]}, headers=who))
        return next((c for c in found["items"] if c["stage"] == stage and c["status"] == "open"), None)

    case = await until(opened, f"a {stage} case for {project['id']}")
    # The third party's review comes before the experts' where the pack asks for it (shexian §21,
    # bayingolin §9).
    body(
        await s.review.put(
            f"/cases/{case['id']}/assessment", headers=who, json={"text": "第三方评审意见〔2026〕1号"}
        )
    )
    drawn = body(await s.review.post(f"/cases/{case['id']}/draw", headers=who))
    experts = {
        e["id"]: e for e in body(await s.review.get("/experts", params={"limit": 200}, headers=who))["items"]
    }
    for seat in drawn["seats"]:
        if seat["state"] != "seated":
            continue
        token = bearer(Role.EXPERT, sub=experts[seat["expert_id"]]["subject"], jurisdictions=[j])
        body(
            await s.review.post(
                f"/cases/{case['id']}/opinions",
                headers=token,
                json={"score": 88, "verdict": verdict, "comments": "材料齐全，方案可行"},
            )
        )
    return await state(s, j, "review", f"/cases/{case['id']}", status="concluded")


# -- intake: declaration to approval -----------------------------------------------------------------


async def declared(s: Suite, jurisdiction: str, amount_fen: int, **fields: Any) -> dict[str, Any]:
    return await declare(s.intake, unique("单位"), jurisdiction, amount_fen=amount_fen, **fields)


async def plan(s: Suite, *projects: dict[str, Any]) -> None:
    """Screening, then the year's plan with every one of them, published."""
    for project in projects:
        screened = body(await screen(s.intake, project))
        assert screened["status"] == "accepted", screened
    first = projects[0]
    body(
        await publish_plan(s.intake, first["jurisdiction"], first["plan_year"], *(p["id"] for p in projects))
    )


async def approve(s: Suite, project: dict[str, Any], *, planned: bool = False) -> dict[str, Any]:
    """Screening and the plan (unless planned), the expert review where the pack has one, 批复."""
    j = project["jurisdiction"]
    if not planned:
        await plan(s, project)
    review = POLICY.rule(j, "funding.expert_review_required")
    if review.applies:
        await panel(s, project, review.params["stages"][0])
        await state(s, j, "intake", f"/projects/{project['id']}", review_verdict="pass")
    await upload_all(s.intake, project)
    approved = body(
        await s.intake.post(
            f"/projects/{project['id']}/approval",
            headers=authority(j),
            json={
                "approval_number": f"批〔{uuid.uuid4().hex[:6]}〕号",
                "approved_amount_fen": project["amount_fen"],
            },
        )
    )
    assert approved["status"] == "approved", approved
    await state(s, j, "procurement", f"/projects/{project['id']}", status="approved")
    await state(s, j, "funding", f"/projects/{project['id']}", approved=True)
    return approved


# -- procurement: contracts to completion ------------------------------------------------------------


CONTRACTOR = ("某某数字科技有限公司", "91340000MA2XXXXX1A")
SUPERVISOR = ("某某信息工程监理有限公司", "91340000MA2YYYYY2B")


async def contract(
    s: Suite, project: dict[str, Any], role: str, amount_fen: int, signed_on: date, days: int = 90
) -> dict[str, Any]:
    firm = CONTRACTOR if role == "construction" else SUPERVISOR
    return body(
        await s.procurement.post(
            f"/projects/{project['id']}/contracts",
            headers=unit(project),
            json={
                "role": role,
                "counterparty": firm[0],
                "credit_code": firm[1],
                "amount_fen": amount_fen,
                "signed_on": signed_on.isoformat(),
                "starts_on": signed_on.isoformat(),
                "ends_on": (signed_on + timedelta(days=days)).isoformat(),
                "milestones": [
                    {"name": "预付款", "stage": "signing", "share_percent": "30"},
                    {"name": "竣工款", "stage": "completion", "share_percent": "40"},
                    {"name": "终验款", "stage": "final_acceptance", "share_percent": "30"},
                ],
                "ip_to_government": True,
            },
        ),
        201,
    )


async def build(
    s: Suite,
    project: dict[str, Any],
    start: date,
    finish: date,
    during: Callable[[dict[str, Any]], Awaitable[None]] | None = None,
) -> dict[str, Any]:
    """Requirements where reviewed (shexian §29), the contracts, 开工 and 竣工; the construction contract."""
    j, pid = project["jurisdiction"], project["id"]
    s.set_time(at(start))
    if POLICY.rule(j, "procurement.requirements_review").applies:
        body(
            await s.procurement.post(
                f"/projects/{pid}/requirements", headers=unit(project), json={"summary": "采购需求"}
            )
        )
        body(
            await s.procurement.post(
                f"/projects/{pid}/requirements/review", headers=authority(j), json={"approved": True}
            )
        )
    construction = await contract(s, project, "construction", project["amount_fen"] * 80 // 100, start)
    await contract(s, project, "supervision", project["amount_fen"] * 3 // 100, start)
    body(await s.procurement.post(f"/projects/{pid}/construction/start", headers=unit(project), json={}))
    if during is not None:
        await during(construction)
    s.set_time(at(finish))
    done = body(
        await s.procurement.post(f"/projects/{pid}/construction/completion", headers=unit(project), json={})
    )
    assert done["status"] == "completed", done
    await state(s, j, "acceptance", f"/projects/{pid}", status="completed")
    return construction


# -- acceptance: 初验 to the final acceptance -----------------------------------------------------------


async def _initial_acceptance(s: Suite, project: dict[str, Any], on: date) -> None:
    s.set_time(at(on))
    body(
        await s.acceptance.post(
            f"/projects/{project['id']}/initial-acceptance",
            headers=unit(project),
            json={"held_on": on.isoformat(), "passed": True, "findings": "功能、性能满足合同要求"},
        )
    )


async def _trial_run(s: Suite, project: dict[str, Any], begin: date) -> date:
    months = acceptance_rules.trial_months(POLICY, project["jurisdiction"], 0) or 0
    end = begin + timedelta(days=31 * max(months, 1))
    for on, field in ((begin, "started_on"), (end, "ended_on")):
        s.set_time(at(on))
        body(
            await s.acceptance.post(
                f"/projects/{project['id']}/trial-run", headers=unit(project), json={field: on.isoformat()}
            )
        )
    return end


async def _initial_and_trial(s: Suite, project: dict[str, Any], completed: date) -> date:
    """初验 and trial run in the pack's order; the last day either took."""
    j = project["jurisdiction"]
    trial = POLICY.rule(j, "acceptance.trial_run_min")
    day = completed + timedelta(days=1)
    if trial.applies and trial.params.get("before_initial_acceptance"):
        day = await _trial_run(s, project, day) + timedelta(days=1)
        await _initial_acceptance(s, project, day)
        return day
    if POLICY.rule(j, "acceptance.initial_by_unit").applies:
        await _initial_acceptance(s, project, day)
    if trial.applies:
        day = await _trial_run(s, project, day + timedelta(days=1))
    return day


async def apply_for_acceptance(
    s: Suite, project: dict[str, Any], completed: date, *, confirm_sharing: bool = True
) -> tuple[date, Response]:
    """初验 and trial run in the pack's order, data sharing, the application: the day it was made
    and the answer."""
    j, pid = project["jurisdiction"], project["id"]
    initial = POLICY.rule(j, "acceptance.initial_by_unit").applies
    day = await _initial_and_trial(s, project, completed)
    if initial:
        wait = POLICY.rule(j, "acceptance.apply_after_initial")
        if wait.applies:
            day = day + timedelta(days=31 * int(wait.param("months")) + 1)
    day += timedelta(days=1)
    s.set_time(at(day))
    if confirm_sharing:
        body(
            await s.acceptance.post(
                f"/projects/{pid}/data-sharing",
                headers=unit(project),
                json={"catalogue": ["业务数据目录"], "items": ["办件信息"]},
            )
        )
        body(
            await s.acceptance.post(
                f"/projects/{pid}/data-sharing/decision", headers=authority(j), json={"decision": "confirmed"}
            )
        )
    detail = body(await s.acceptance.get(f"/projects/{pid}", headers=unit(project)))
    materials = {m: f"{label}（电子件）" for m, label in detail["required_materials"].items()}
    applied = await s.acceptance.post(
        f"/projects/{pid}/final-acceptance/application",
        headers=unit(project),
        json={"materials": {**materials, "archives_acceptance": "档验〔2027〕1号"}},
    )
    return day, applied


async def accept(s: Suite, project: dict[str, Any], completed: date, *, confirm_sharing: bool = True) -> date:
    """初验 and trial run in the pack's order, data sharing, the application, the conclusion.

    Returns the day the application was made."""
    j, pid = project["jurisdiction"], project["id"]
    day, applied = await apply_for_acceptance(s, project, completed, confirm_sharing=confirm_sharing)
    if not confirm_sharing:
        return day if applied.status_code == 409 else _fail(applied)
    body(applied)
    body(
        await s.acceptance.post(
            f"/projects/{pid}/final-acceptance/admission", headers=authority(j), json={"admit": True}
        )
    )
    if acceptance_rules.experts_conclude(POLICY, j):
        await panel(s, project, "acceptance")
    else:
        body(
            await s.acceptance.post(
                f"/projects/{pid}/final-acceptance/conclusion", headers=authority(j), json={"passed": True}
            )
        )
    await state(s, j, "acceptance", f"/projects/{pid}", status="accepted")

    async def funding_knows() -> bool:
        found = body(await s.funding.get(f"/projects/{pid}", headers=finance(j)))
        return found["accepted_on"] is not None

    await until(funding_knows, "funding to learn of the acceptance")
    return day


def _fail(response: Response) -> date:
    raise AssertionError(f"expected a refusal: {response.status_code} {response.text}")


# -- funding ---------------------------------------------------------------------------------------------


async def pay(
    s: Suite, project: dict[str, Any], amount_fen: int, kind: str = "construction", **extra: Any
) -> Response:
    return await s.funding.post(
        f"/projects/{project['id']}/disbursements",
        headers=unit(project),
        json={"amount_fen": amount_fen, "purpose": "拨付", "kind": kind, **extra},
    )


async def om(s: Suite, project: dict[str, Any], budget_year: int, **extra: Any) -> Response:
    return await s.funding.post(
        f"/projects/{project['id']}/om-applications",
        headers=unit(project),
        json={"amount_fen": 20 * WAN, "budget_year": budget_year, **extra},
    )


async def released(s: Suite, project: dict[str, Any], disbursement_id: str) -> dict[str, Any]:
    j = project["jurisdiction"]
    return await state(s, j, "funding", f"/disbursements/{disbursement_id}", status="released")
