"""The acceptance service over HTTP and events, on SQLite and PostgreSQL with a real JetStream.

Projects arrive as intake's declaration and procurement's completion; the expert panel's
conclusion arrives as review's event, published onto the stream as those services do.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.acceptance.consumers import SUBSCRIPTIONS
from services.acceptance.db import AcceptanceUnitOfWork
from services.acceptance.domain import Application, Project, Status
from services.acceptance.main import SPEC
from services.acceptance.main import create_app as create_acceptance
from services.acceptance.settings import AcceptanceSettings
from shared.auth import Role
from shared.bus import DeadLetter, Delivery, JetStreamBus, Retry
from shared.consume import EventDispatcher, HandlerContext
from shared.contracts import encode, subject_for
from shared.contracts.intake import ProjectDeclared
from shared.contracts.procurement import ConstructionCompleted
from shared.contracts.review import ReviewConcluded
from shared.db import create_engine, migrate
from shared.metrics import Metrics
from shared.policy import load_registry
from shared.workdays import WorkingCalendar
from tests.conftest import bearer, eventually, real_bus, running, unique
from tests.intake_flow import Clock, events_of, publish

AUTHORITY = bearer(Role.AUTHORITY, sub="数据资源局")
ARCHIVES = {"archives_acceptance": "州档验〔2026〕5号"}  # 档案验收意见 (bayingolin §25)
SHEXIAN_MATERIALS = {
    "construction_summary": "建设总结",
    "financial_report": "财务报告",
    "audit_report": "审计〔2026〕3号",
    "supervision_report": "监理报告",
    "security_risk_assessment": "等保测评报告",
    "crypto_assessment_report": "密评报告",
    "archives_acceptance": "歙档验〔2026〕3号",  # shexian §41
}


@dataclass
class Acceptance:
    http: AsyncClient
    bus: JetStreamBus
    clock: Clock


@pytest.fixture
async def acceptance(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[Acceptance]:
    clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    settings = AcceptanceSettings(
        database_url=await make_database("acceptance"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    async with (
        real_bus(nats_url, isolation, clock) as bus,
        running(create_acceptance(settings, clock=clock)) as http,
    ):
        yield Acceptance(http, bus, clock)


def at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 2, 0, tzinfo=UTC)


async def detail(a: Acceptance, project: dict[str, Any]) -> dict[str, Any] | None:
    response = await a.http.get(f"/projects/{project['id']}", headers=AUTHORITY)
    return dict(response.json()) if response.status_code == 200 else None


async def completed(
    a: Acceptance,
    jurisdiction: str,
    on: date = date(2026, 3, 2),
    software_fen: int = 0,
    kind: str = "construction",
    classified: bool = False,
) -> dict[str, Any]:
    """A project as intake declares it and procurement completes it; waits until acceptance knows."""
    project = {"id": unique("p"), "jurisdiction": jurisdiction, "agency": unique("单位")}
    await publish(
        a.bus,
        ProjectDeclared(
            project_id=project["id"],
            jurisdiction=jurisdiction,
            agency=project["agency"],
            title="政务服务平台",
            kind=kind,  # type: ignore[arg-type]
            amount_fen=200_000_000,
            software_fen=software_fen,
            classified=classified,
        ),
        "/govit/intake",
    )
    await publish(
        a.bus,
        ConstructionCompleted(
            project_id=project["id"],
            jurisdiction=jurisdiction,
            agency=project["agency"],
            completed_on=on,
            contract_total_fen=180_000_000,
            approved_total_fen=200_000_000,
            contractors=("某某信息技术有限公司",),
            supervisor="某某工程监理有限公司",
        ),
        "/govit/procurement",
    )

    async def known() -> bool:
        found = await detail(a, project)
        return found is not None and found["status"] == "completed"

    await eventually(known, what="acceptance to record the completion")
    return project


def unit(project: dict[str, Any]) -> dict[str, str]:
    return bearer(Role.APPLICANT, project["agency"], sub="建设单位经办人")


async def post(
    a: Acceptance, project: dict[str, Any], path: str, body: dict[str, Any], as_: Any = None
) -> Response:
    return await a.http.post(f"/projects/{project['id']}/{path}", headers=as_ or unit(project), json=body)


def refused(response: Response) -> dict[str, list[str]]:
    return {r["code"]: r["articles"] for r in response.json().get("reasons", [])}


async def events(
    a: Acceptance, project: dict[str, Any], name: str, at_least: int = 1
) -> list[dict[str, Any]]:
    async def found() -> list[dict[str, Any]] | None:
        got = [d for k, d in await events_of(a.bus, project["id"]) if k == f"govit.acceptance.{name}.v1"]
        return got if len(got) >= at_least else None

    return list(await eventually(found, what=f"acceptance.{name}"))


async def review_concludes(a: Acceptance, project: dict[str, Any], verdict: str, status: str) -> None:
    await publish(
        a.bus,
        ReviewConcluded(
            project_id=project["id"],
            jurisdiction=project["jurisdiction"],
            case_id=uuid.uuid4().hex,
            stage="acceptance",
            verdict=verdict,  # type: ignore[arg-type]
        ),
    )

    async def concluded() -> bool:
        found = await detail(a, project)
        return found is not None and found["status"] == status

    await eventually(concluded, what=f"the panel's {verdict} to reach acceptance")


async def test_shexian_from_initial_acceptance_through_a_failed_panel_to_acceptance(
    acceptance: Acceptance,
) -> None:
    a = acceptance
    project = await completed(a, "shexian")
    early = await post(a, project, "final-acceptance/application", {"materials": {}})
    assert early.status_code == 409 and early.headers["content-type"].startswith("application/problem+json")
    assert refused(early) == {
        "initial_acceptance_missing": ["shexian §39"],
        "trial_run_missing": ["shexian §39"],
        "data_sharing_unconfirmed": ["shexian §39", "shexian §44(一)"],
        "archives_not_accepted": ["shexian §41"],
        "materials_missing": ["shexian §39"],
    }
    assert (await detail(a, project))["applications"] == []  # type: ignore[index]

    a.clock.now = at(date(2026, 3, 21))
    trial_first = await post(a, project, "trial-run", {"started_on": "2026-03-19"})
    assert refused(trial_first) == {"trial_run_after_initial": ["shexian §39"]}, trial_first.text
    future = await post(
        a, project, "initial-acceptance", {"held_on": "2026-03-22", "passed": True, "findings": "同意"}
    )
    assert future.status_code == 422, future.text
    initial = await post(
        a, project, "initial-acceptance", {"held_on": "2026-03-20", "passed": True, "findings": "同意"}
    )
    assert initial.status_code == 200 and not initial.json()["initial"]["late"], initial.text
    assert (await post(a, project, "trial-run", {"started_on": "2026-03-21"})).status_code == 200
    a.clock.now = at(date(2026, 4, 10))
    short = await post(a, project, "final-acceptance/application", {"materials": SHEXIAN_MATERIALS})
    assert "trial_run_too_short" in refused(short), short.text
    a.clock.now = at(date(2026, 4, 22))
    assert (await post(a, project, "trial-run", {"ended_on": "2026-04-21"})).status_code == 200

    shared = await post(a, project, "data-sharing", {"catalogue": ["学籍信息"], "items": ["学生基本信息"]})
    assert shared.status_code == 200 and shared.json()["data_sharing"]["status"] == "submitted"
    by_unit = await post(a, project, "data-sharing/decision", {"decision": "confirmed"})
    assert by_unit.status_code == 403
    confirmed = await post(a, project, "data-sharing/decision", {"decision": "confirmed"}, AUTHORITY)
    assert confirmed.status_code == 200, confirmed.text
    (decided,) = await events(a, project, "data_sharing_decided")
    assert decided["decision"] == "confirmed" and decided["articles"] == ["shexian §39", "shexian §44(一)"]

    wanted = (await detail(a, project))["required_materials"]  # type: ignore[index]
    assert set(wanted) == set(SHEXIAN_MATERIALS)  # the archives' opinion among them
    # A tick is no archives acceptance (shexian §41): its opinion's reference is.
    ticked = await post(
        a,
        project,
        "final-acceptance/application",
        {
            "materials": {k: v for k, v in SHEXIAN_MATERIALS.items() if k != "archives_acceptance"},
            "archives_accepted": True,
        },
    )
    assert refused(ticked) == {"archives_not_accepted": ["shexian §41"]}, ticked.text
    applied = await post(
        a,
        project,
        "final-acceptance/application",
        {"materials": SHEXIAN_MATERIALS},
    )
    assert applied.status_code == 200 and applied.json()["status"] == "applied", applied.text
    admitted = await post(a, project, "final-acceptance/admission", {"admit": True}, AUTHORITY)
    assert admitted.json()["status"] == "under_acceptance", admitted.text
    (application,) = await events(a, project, "final_acceptance_applied")
    assert (
        application["parties"] == ["某某信息技术有限公司", "某某工程监理有限公司"] and application["experts"]
    )
    by_hand = await post(a, project, "final-acceptance/conclusion", {"passed": True}, AUTHORITY)
    assert by_hand.status_code == 409  # shexian's panel concludes, through the review service

    await review_concludes(a, project, "fail", "rectifying")
    ordered = await a.http.put(
        f"/projects/{project['id']}/final-acceptance/rectification",
        headers=AUTHORITY,
        json={"items": ["补充接口文档"], "due_on": "2026-05-30"},
    )
    assert ordered.status_code == 200 and ordered.json()["rectification"]["items"] == ["补充接口文档"]
    again = await post(
        a,
        project,
        "final-acceptance/application",
        {"materials": SHEXIAN_MATERIALS},
    )
    assert again.status_code == 200 and again.json()["applications"][-1]["round"] == 2, again.text
    await post(a, project, "final-acceptance/admission", {"admit": True}, AUTHORITY)
    await review_concludes(a, project, "pass", "accepted")
    conclusions = await events(a, project, "final_acceptance_concluded", at_least=2)
    assert [(c["passed"], c["round"]) for c in conclusions] == [(False, 1), (True, 2)]

    revoked = await post(
        a, project, "data-sharing/decision", {"decision": "revoked", "reason": "未按目录共享"}, AUTHORITY
    )
    assert revoked.status_code == 200, revoked.text
    assert [d["decision"] for d in await events(a, project, "data_sharing_decided", 2)] == [
        "confirmed",
        "revoked",
    ]
    report = await post(a, project, "acceptance-report", {"reference": "验收〔2026〕5号"})
    assert report.status_code == 200 and not report.json()["report"]["late"]
    other = bearer(Role.APPLICANT, "另一个单位")
    assert (await a.http.get(f"/projects/{project['id']}", headers=other)).status_code == 404
    listed = await a.http.get("/projects", headers=unit(project))
    assert [p["id"] for p in listed.json()["items"]] == [project["id"]]


async def test_shexian_applies_after_six_months_only_with_an_approved_delay(acceptance: Acceptance) -> None:
    a = acceptance
    project = await completed(a, "shexian")
    a.clock.now = at(date(2026, 9, 10))  # the window closed on 2026-09-02
    late = await post(a, project, "final-acceptance/application", {"materials": SHEXIAN_MATERIALS})
    assert refused(late)["application_late"] == ["shexian §39"]
    # 期限一览: shexian's authority finds it overdue, said in words with its article.
    shexian = bearer(Role.AUTHORITY, jurisdictions=["shexian"])
    overdue = (await a.http.get("/deadlines", headers=shexian, params={"agency": project["agency"]})).json()
    assert [(d["deadline_label"], d["due_on"], d["articles"]) for d in overdue["items"]] == [
        ("初步验收期限", "2026-06-02", ["shexian §39"]),  # no initial acceptance recorded either
        ("申请终验期限", "2026-09-02", ["shexian §39"]),
    ]
    elsewhere = bearer(Role.AUTHORITY, jurisdictions=["zhonglou"])
    assert project["id"] not in (await a.http.get("/deadlines", headers=elsewhere)).text
    asked = await post(a, project, "acceptance-delay", {"until": "2026-10-30", "reason": "等保测评排期"})
    assert asked.status_code == 200, asked.text
    approved = await post(a, project, "acceptance-delay/decision", {"approve": True}, AUTHORITY)
    assert approved.json()["delay"]["status"] == "approved"
    delayed = await a.http.get("/deadlines", headers=shexian, params={"agency": project["agency"]})
    # The approved delay moved the application's limit to 2026-10-30: only the initial one is left.
    assert [d["deadline"] for d in delayed.json()["items"]] == ["initial_acceptance"]
    again = await post(a, project, "final-acceptance/application", {"materials": SHEXIAN_MATERIALS})
    assert "application_late" not in refused(again)
    lhasa = await completed(a, "lhasa")
    no_delay = await post(a, lhasa, "acceptance-delay", {"until": "2026-10-30", "reason": "x"})
    assert no_delay.status_code == 422


async def test_shexian_a_classified_system_is_accepted_into_use_only_after_its_secrecy_review(
    acceptance: Acceptance,
) -> None:
    """shexian §42: 保密测评机构检测评估，并经市级以上保密行政管理部门审查合格，方可投入使用."""
    a = acceptance
    project = await completed(a, "shexian", classified=True)
    assert (await detail(a, project))["classified"] is True  # type: ignore[index]
    application = {"materials": SHEXIAN_MATERIALS}
    early = await post(a, project, "final-acceptance/application", application)
    assert refused(early)["classified_assessment_missing"] == ["shexian §42", "shexian §39"]
    assert refused(early)["classified_approval_missing"] == ["shexian §42", "shexian §39"]

    def secrecy(kind: str, reference: str, issuer: str, **more: Any) -> dict[str, Any]:
        body = {"attestation": kind, "compliant": True, "reference": reference, "issued_on": "2026-03-01"}
        return {**body, "issuer": issuer, **more}

    assessed = await post(
        a, project, "attestations", secrecy("secrecy_assessment", "保测〔2026〕8号", "某保密测评中心")
    )
    assert assessed.status_code == 200, assessed.text
    county = secrecy("secrecy_approval", "歙保审〔2026〕1号", "歙县保密局", issuer_level="county")
    assert (await post(a, project, "attestations", county)).status_code == 200
    again = await post(a, project, "final-acceptance/application", application)
    reasons = {r["code"]: r["message"] for r in again.json()["reasons"]}
    assert "classified_assessment_missing" not in reasons
    assert "由县级部门审查" in reasons["classified_approval_missing"]  # not 市级以上
    city = secrecy("secrecy_approval", "黄保审〔2026〕3号", "黄山市国家保密局", issuer_level="city")
    recorded = await post(a, project, "attestations", city)
    assert recorded.json()["attestations"][-1]["issuer_level"] == "city", recorded.text
    cleared = await post(a, project, "final-acceptance/application", application)
    assert not {"classified_assessment_missing", "classified_approval_missing"} & set(refused(cleared))
    # A record without its level, or about a system that is not classified, is refused.
    levelless = secrecy("secrecy_approval", "黄保审〔2026〕4号", "黄山市国家保密局")
    assert (await post(a, project, "attestations", levelless)).status_code == 422
    public = await completed(a, "shexian")
    assert (await post(a, public, "attestations", city)).status_code == 422
    assert "classified_approval_missing" not in refused(
        await post(a, public, "final-acceptance/application", application)
    )


async def test_bayingolin_software_trial_report_within_seven_working_days_and_first_year_evaluation(
    acceptance: Acceptance,
) -> None:
    a = acceptance
    project = await completed(a, "bayingolin", software_fen=50_000_000)
    assert (await post(a, project, "trial-run", {"started_on": "2026-03-02"})).status_code == 200
    a.clock.now = at(date(2026, 5, 1))
    short = await post(a, project, "final-acceptance/application", {"materials": ARCHIVES})
    assert refused(short)["trial_run_too_short"] == ["bayingolin §27"], short.text
    assert (
        "三个月" in short.json()["reasons"][0]["message"] or "3个月" in short.json()["reasons"][0]["message"]
    )
    # bayingolin §13: data sharing is 重要依据 for acceptance, not a precondition.
    assert "data_sharing_unconfirmed" not in refused(short), short.text
    a.clock.now = at(date(2026, 9, 25))
    await post(a, project, "data-sharing", {"catalogue": ["人口基础信息"]})
    materials = {"acceptance_application_form": "申请表", "acceptance_preparation_materials": "准备材料"}
    applied = await post(a, project, "final-acceptance/application", {"materials": {**materials, **ARCHIVES}})
    assert applied.status_code == 200, applied.text
    (basis,) = applied.json()["applications"][-1]["notes"]
    assert basis["code"] == "basis:data_sharing" and basis["articles"] == ["bayingolin §13"]
    assert basis["message"].startswith("数据共享情况：已提交、待主管部门确认"), basis
    await post(a, project, "final-acceptance/admission", {"admit": True}, AUTHORITY)
    a.clock.now = at(date(2026, 9, 28))
    await review_concludes(a, project, "pass", "accepted")
    (concluded,) = await events(a, project, "final_acceptance_concluded")
    assert concluded["passed"] and concluded["report_due_on"] == "2026-10-13"  # across National Day

    a.clock.now = at(date(2026, 10, 14))
    report = await post(a, project, "acceptance-report", {"reference": "验收报告〔2026〕1号"})
    assert report.json()["report"]["late"] and report.json()["report"]["notes"][0]["articles"] == [
        "bayingolin §29"
    ]
    (filed,) = await events(a, project, "acceptance_report_filed")
    assert filed["late"] and filed["due_on"] == "2026-10-13"

    early = await post(a, project, "evaluations", {"evaluation": "first_year", "summary": "总体完成"})
    assert refused(early) == {"evaluation_too_early": ["bayingolin §31"]}, early.text
    a.clock.now = at(date(2027, 9, 30))
    found = await post(
        a,
        project,
        "evaluations",
        {
            "evaluation": "first_year",
            "summary": "总体完成",
            "serious_problems": ["数据未按期更新"],
            "rectification_due": "2027-12-31",
        },
    )
    assert found.status_code == 200, found.text
    evaluation_id = found.json()["evaluations"][0]["id"]
    fixed = await post(a, project, f"evaluations/{evaluation_id}/rectification", {}, AUTHORITY)
    assert fixed.status_code == 200 and fixed.json()["evaluations"][0]["rectified"]
    recorded = await events(a, project, "evaluation_recorded", at_least=2)
    assert [(e["rectified"], e["rectification_due"]) for e in recorded] == [
        (False, "2027-12-31"),
        (True, "2027-12-31"),
    ]


async def test_xunyang_the_authority_concludes_and_audit_and_security_are_evented(
    acceptance: Acceptance,
) -> None:
    a = acceptance
    project = await completed(a, "xunyang")
    a.clock.now = at(date(2026, 3, 20))
    assert (await post(a, project, "trial-run", {"started_on": "2026-03-03"})).status_code == 200
    early = await post(
        a, project, "initial-acceptance", {"held_on": "2026-03-20", "passed": True, "findings": "同意"}
    )
    assert refused(early) == {"trial_run_before_initial": ["xunyang §19"]}, early.text
    assert (await post(a, project, "trial-run", {"ended_on": "2026-03-19"})).status_code == 200
    initial = await post(
        a, project, "initial-acceptance", {"held_on": "2026-03-20", "passed": True, "findings": "同意"}
    )
    assert initial.status_code == 200, initial.text
    materials = {"unit_materials": "a", "contractor_materials": "b", "supervisor_materials": "c"}
    applied = await post(a, project, "final-acceptance/application", {"materials": materials})
    assert applied.status_code == 200, applied.text
    await post(a, project, "final-acceptance/admission", {"admit": True}, AUTHORITY)
    (application,) = await events(a, project, "final_acceptance_applied")
    assert not application["experts"]  # xunyang §20: the authority organises it with other bureaus
    vague = await post(a, project, "final-acceptance/conclusion", {"passed": False}, AUTHORITY)
    assert vague.status_code == 422
    failed = await post(
        a,
        project,
        "final-acceptance/conclusion",
        {"passed": False, "rectification_items": ["补齐审计报告"], "rectification_due": "2026-04-30"},
        AUTHORITY,
    )
    assert failed.json()["status"] == "rectifying", failed.text
    (concluded,) = await events(a, project, "final_acceptance_concluded")
    assert concluded["rectification_items"] == ["补齐审计报告"] and concluded["articles"] == ["xunyang §20"]

    audit = await post(
        a, project, "audit-report", {"reference": "浔审〔2026〕7号", "issued_on": "2026-03-25"}
    )
    assert audit.status_code == 200, audit.text
    (audited,) = await events(a, project, "audit_report_filed")
    assert audited["reference"] == "浔审〔2026〕7号"
    mlps = await post(
        a,
        project,
        "attestations",
        {
            "attestation": "mlps",
            "compliant": False,
            "reference": "等保〔2026〕2号",
            "issued_on": "2026-03-01",
        },
        AUTHORITY,
    )
    assert mlps.status_code == 200, mlps.text
    (attested,) = await events(a, project, "security_attested")
    assert attested["attestation"] == "mlps" and not attested["compliant"]


async def test_zhonglou_applies_three_months_after_initial_and_post_evaluation_falls_due_by_itself(
    acceptance: Acceptance,
) -> None:
    a = acceptance
    project = await completed(a, "zhonglou")
    a.clock.now = at(date(2026, 3, 10))
    await post(
        a, project, "initial-acceptance", {"held_on": "2026-03-10", "passed": True, "findings": "同意"}
    )
    materials = {"construction_acceptance_documents": "建设过程验收资料"}
    early = await post(a, project, "final-acceptance/application", {"materials": materials})
    assert refused(early) == {"application_too_early": ["zhonglou §18"]}, early.text
    a.clock.now = at(date(2026, 6, 10))
    assert (
        await post(a, project, "final-acceptance/application", {"materials": materials})
    ).status_code == 200
    await post(a, project, "final-acceptance/admission", {"admit": True}, AUTHORITY)
    await review_concludes(a, project, "pass", "accepted")

    a.clock.now = at(date(2027, 6, 11))
    scanned = await a.http.post("/projects/evaluation-scan", headers=AUTHORITY)
    assert scanned.json() == {"due": 1}, scanned.text
    (due,) = await events(a, project, "post_evaluation_due")
    assert due["due_on"] == "2027-06-10" and due["articles"] == ["zhonglou §20"]
    assert due["parties"] == ["某某信息技术有限公司", "某某工程监理有限公司"]
    assert (await a.http.post("/projects/evaluation-scan", headers=AUTHORITY)).json() == {"due": 0}


async def test_lhasa_the_authority_concludes_and_in_shexian_a_revoked_confirmation_stops_admission(
    acceptance: Acceptance,
) -> None:
    a = acceptance
    lhasa = await completed(a, "lhasa")
    a.clock.now = at(date(2026, 3, 10))
    await post(a, lhasa, "initial-acceptance", {"held_on": "2026-03-10", "passed": True, "findings": "同意"})
    # lhasa §19 asks for no confirmation of data sharing before acceptance: none is waited for.
    applied = await post(a, lhasa, "final-acceptance/application", {})
    assert applied.status_code == 200, applied.text
    assert applied.json()["applications"][-1]["notes"] == []
    await post(a, lhasa, "final-acceptance/admission", {"admit": True}, AUTHORITY)
    (application,) = await events(a, lhasa, "final_acceptance_applied")
    assert not application["experts"]  # lhasa §17: the authority organises or delegates it
    # A panel's verdict on another case does not conclude it; the authority does.
    await publish(
        a.bus,
        ReviewConcluded(
            project_id=lhasa["id"], jurisdiction="lhasa", case_id="x", stage="acceptance", verdict="fail"
        ),
    )
    concluded = await post(a, lhasa, "final-acceptance/conclusion", {"passed": True}, AUTHORITY)
    assert concluded.status_code == 200 and concluded.json()["status"] == "accepted", concluded.text

    shexian = await completed(a, "shexian")
    await post(
        a, shexian, "initial-acceptance", {"held_on": "2026-03-05", "passed": True, "findings": "同意"}
    )
    await post(a, shexian, "trial-run", {"started_on": "2026-03-06"})
    a.clock.now = at(date(2026, 4, 10))
    await post(a, shexian, "data-sharing", {"catalogue": ["户籍信息"]})
    await post(a, shexian, "data-sharing/decision", {"decision": "confirmed"}, AUTHORITY)
    applied = await post(
        a,
        shexian,
        "final-acceptance/application",
        {"materials": SHEXIAN_MATERIALS},
    )
    assert applied.status_code == 200, applied.text
    await post(a, shexian, "data-sharing/decision", {"decision": "revoked", "reason": "重复采集"}, AUTHORITY)
    admitted = await post(a, shexian, "final-acceptance/admission", {"admit": True}, AUTHORITY)
    assert refused(admitted) == {"data_sharing_unconfirmed": ["shexian §39", "shexian §44(一)"]}, (
        admitted.text
    )


async def test_another_jurisdictions_authority_neither_concludes_nor_sees_its_acceptance(
    acceptance: Acceptance,
) -> None:
    http = acceptance.http
    mine = await completed(acceptance, "xunyang")  # xunyang §20: the authority concludes, no panel
    theirs = await completed(acceptance, "lhasa")
    lhasa = bearer(Role.AUTHORITY, jurisdictions=["lhasa"])
    missing = await http.post(
        "/projects/no-such/final-acceptance/conclusion", headers=lhasa, json={"passed": True}
    )
    for path, body in (
        ("final-acceptance/conclusion", {"passed": True}),
        ("final-acceptance/admission", {"admit": True}),
        ("data-sharing/decision", {"decision": "confirmed"}),
    ):
        response = await post(acceptance, mine, path, body, as_=lhasa)
        assert response.status_code == 404 and response.json()["code"] == missing.json()["code"], (
            response.text
        )
    assert (await http.get(f"/projects/{mine['id']}", headers=lhasa)).status_code == 404
    assert (await http.get(f"/projects/{mine['id']}", headers=AUTHORITY)).json()["status"] == "completed"

    # Each jurisdiction's list is its own; naming another's is refused.
    listed = (await http.get("/projects", params={"limit": 200}, headers=lhasa)).json()["items"]
    assert theirs["id"] in {p["id"] for p in listed} and {p["jurisdiction"] for p in listed} == {"lhasa"}
    named = await http.get("/projects", params={"jurisdiction": "xunyang"}, headers=lhasa)
    assert named.status_code == 403 and named.json()["code"] == "forbidden_jurisdiction"
    xunyang = bearer(Role.AUTHORITY, jurisdictions=["xunyang"])
    concluded = await post(acceptance, mine, "final-acceptance/conclusion", {"passed": True}, as_=xunyang)
    assert concluded.status_code != 404, concluded.text  # its own authority reaches it (then the rules)


async def test_a_panel_conclusion_the_project_can_never_take_is_dead_lettered_at_once(
    make_database: Any,
) -> None:
    """A domain error no redelivery cures (here: a panel on a project with no completion) dead-letters
    on the first delivery with its reason; a project not declared yet keeps being retried."""
    engine = create_engine(await make_database("acceptance"))
    await migrate(engine, Path(SPEC.migrations))
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    def new_uow() -> AcceptanceUnitOfWork:
        return AcceptanceUnitOfWork(sessions, source="/govit/acceptance", subject_prefix="govit")

    async with new_uow() as uow:
        uow.projects.add(
            Project(
                id="p1",
                jurisdiction="shexian",
                agency="县数据局",
                title="平台",
                kind="construction",
                software_fen=0,
                status=Status.UNDER_ACCEPTANCE,
                applications=(
                    Application(
                        id="a1",
                        round=1,
                        status="admitted",
                        materials={},
                        archives_accepted=True,
                        submitted_on=date(2026, 3, 2),
                        submitted_by="单位",
                        experts=True,
                    ),
                ),
            )
        )
        await uow.commit()
    dispatch = EventDispatcher(
        durable="acceptance",
        subscriptions=SUBSCRIPTIONS,
        uow_factory=new_uow,
        context=HandlerContext(policy=load_registry(), calendar=WorkingCalendar()),
        max_deliver=6,
        metrics=Metrics("test"),
        prefix="govit",
    )

    def delivery(project_id: str) -> Delivery:
        event = ReviewConcluded(
            project_id=project_id, jurisdiction="shexian", case_id="c1", stage="acceptance", verdict="pass"
        )
        raw = encode(event, source="/govit/review")
        return Delivery(subject_for("govit", event), raw, {}, 1, 1)

    verdict = await dispatch(delivery("p1"))
    assert isinstance(verdict, DeadLetter)
    assert verdict.reason.startswith("Unprocessable: InvalidState: 项目尚未竣工"), verdict.reason
    assert isinstance(await dispatch(delivery("p2")), Retry)  # not declared yet: it may arrive
    await engine.dispose()
