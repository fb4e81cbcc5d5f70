"""Intake over HTTP and events: draft → declared → screened → plan → review → approved, per jurisdiction."""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from services.intake.main import create_app as create_intake
from services.intake.settings import IntakeSettings
from shared.auth import Role
from shared.bus import JetStreamBus
from shared.contracts.acceptance import (
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceConcluded,
    SecurityAttested,
)
from shared.contracts.procurement import TerminationRecommended
from tests.conftest import bearer, eventually, real_bus, running, unique
from tests.intake_flow import (
    AUTHORITY,
    Clock,
    applicant,
    approve,
    authority,
    checklist,
    declare,
    draft,
    event_of,
    events_of,
    publish,
    publish_plan,
    register,
    review_passed,
    screen,
    submit,
    take_to_approval,
    upload,
    upload_all,
)


@dataclass
class Intake:
    http: AsyncClient
    bus: JetStreamBus
    clock: Clock

    async def project(self, project_id: str) -> dict[str, Any]:
        response = await self.http.get(f"/projects/{project_id}", headers=AUTHORITY)
        assert response.status_code == 200, response.text
        return dict(response.json())


@pytest.fixture
async def intake(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[Intake]:
    clock = Clock()
    settings = IntakeSettings(
        database_url=await make_database("intake"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    async with (
        real_bus(nats_url, isolation, clock) as bus,
        running(create_intake(settings, clock=clock)) as http,
    ):
        yield Intake(http, bus, clock)


def codes(problem: dict[str, Any]) -> dict[str, str]:
    return {r["code"]: r["rule"] for r in problem.get("reasons", [])}


async def test_a_zhonglou_project_goes_from_draft_to_approval_and_every_step_is_an_event(
    intake: Intake,
) -> None:
    http, bus = intake.http, intake.bus
    agency = unique("区教育局")
    applicant = bearer(Role.APPLICANT, agency)
    await register(http, "zhonglou", agency)

    # A draft is private to the agency and announced to nobody; it may be changed.
    project = await draft(http, agency, "zhonglou", amount_fen=80_000_000)
    assert project["status"] == "draft"
    changed = await http.patch(
        f"/projects/{project['id']}", headers=applicant, json={"amount_fen": 90_000_000}
    )
    assert changed.status_code == 200 and changed.json()["amount_fen"] == 90_000_000
    bad = await http.patch(f"/projects/{project['id']}", headers=applicant, json={"amount_fen": -1})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["body", "amount_fen"]
    assert await event_of(bus, project["id"], "project_declared") is None

    # Declared (materials first); on 2026-06-15 it goes to the 2027 plan (zhonglou §6: by Sep 30).
    await upload_all(http, project, "declaration")
    declared = (await submit(http, project)).json()
    assert declared["status"] == "declared" and declared["plan_year"] == 2027
    assert (
        await http.patch(f"/projects/{project['id']}", headers=applicant, json={"title": "改名"})
    ).status_code == 409
    event = await eventually(lambda: event_of(bus, project["id"], "project_declared"))
    assert event["plan_year"] == 2027 and event["agency"] == agency

    screened = (await screen(http, project)).json()
    assert screened["status"] == "accepted"
    assert (await eventually(lambda: event_of(bus, project["id"], "project_screened")))["accepted"] is True

    published = await publish_plan(http, "zhonglou", 2027, project["id"])
    assert published.status_code == 200, published.text
    assert published.json()["status"] == "published" and published.json()["entries"][0]["rank"] == 1
    included = await eventually(lambda: event_of(bus, project["id"], "project_included_in_plan"))
    assert included["rank"] == 1 and "zhonglou §9" in included["articles"]

    # In the plan but not yet reviewed, the 论证 materials and the final 建议书 missing: refused,
    # each with its article (zhonglou §11 论证, §12 建议书终稿 before the 函复意见).
    refused = await approve(http, project)
    assert refused.status_code == 422 and refused.json()["code"] == "approval_refused"
    assert codes(refused.json()) == {
        "review_not_passed": "zhonglou §11",
        "material_missing:cybersecurity_review_opinion": "zhonglou §11",
        "material_missing:demonstration_request": "zhonglou §11",
        "material_missing:demonstration_proposal": "zhonglou §11",
        "material_missing:demonstration_plan": "zhonglou §11",
        "material_missing:final_proposal": "zhonglou §12",
    }

    # The review service's conclusion arrives as an event; the materials are uploaded.
    await publish(bus, review_passed(project))
    await eventually(lambda: _field(intake, project["id"], "review_verdict", "pass"), what="review recorded")
    for material in ("cybersecurity_review_opinion", "demonstration_request", "demonstration_proposal"):
        assert (await upload(http, project, material)).status_code == 201
    assert (await upload(http, project, "demonstration_plan")).status_code == 201
    still = await approve(http, project)
    assert codes(still.json()) == {"material_missing:final_proposal": "zhonglou §12"}
    assert (await upload(http, project, "final_proposal")).status_code == 201
    approved = await approve(http, project, 85_000_000)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved" and approved.json()["approved_amount_fen"] == 85_000_000
    event = await eventually(lambda: event_of(bus, project["id"], "project_approved"))
    assert event["approval_number"] == approved.json()["approval_number"] and event["plan_year"] == 2027
    assert "zhonglou §9" in event["articles"] and "zhonglou §11" in event["articles"]

    # The record shows every decision, in order, with its citations.
    detail = await intake.project(project["id"])
    assert [d["action"] for d in detail["decisions"]] == [
        "draft", "update", "submit", "screening", "plan", "review", "approval"
    ]  # fmt: skip
    assert all(item["complete"] for item in detail["required_materials"])


async def _field(intake: Intake, project_id: str, name: str, value: Any) -> bool:
    return bool((await intake.project(project_id))[name] == value)


async def test_screening_refuses_with_every_reason_and_its_article(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    # zhonglou §8: five grounds, all reported at once; the missing materials too.
    agency = unique("区城管局")
    await register(http, "zhonglou", agency)
    project = await draft(
        http,
        agency,
        "zhonglou",
        deployment="other",
        xinchuang_compatible=False,
        security_plan="",
        shares_data_with_platform=False,
    )
    await upload(http, project, "project_proposal")
    assert (await submit(http, project)).status_code == 200
    refused = (await screen(http, project)).json()
    assert refused["status"] == "rejected"
    event = await eventually(lambda: event_of(bus, project["id"], "project_screened"))
    assert event["accepted"] is False
    reasons = {r["code"]: r["rule"] for r in event["reasons"]}
    assert {k: v for k, v in reasons.items() if k.startswith("not_reviewable")} == {
        "not_reviewable:not_on_gov_network_cloud_unexplained": "zhonglou §8",
        "not_reviewable:not_sharing_with_platform": "zhonglou §8",
        "not_reviewable:not_xinchuang_compatible": "zhonglou §8",
        "not_reviewable:no_security_plan": "zhonglou §8",
    }
    assert reasons["material_missing:construction_plan"] == "zhonglou §6"

    # ...but a 涉密 project is not subject to §8 (涉密项目除外).
    secret = await declare(
        http, agency, "zhonglou", classified=True, xinchuang_compatible=False, security_plan=""
    )
    assert (await screen(http, secret)).json()["status"] == "accepted"

    # shexian §13: a township may not declare on its own.
    township = unique("某镇人民政府")
    refused_township = await declare(http, township, "shexian", level="township")
    assert (await screen(http, refused_township)).json()["status"] == "rejected"
    detail = await intake.project(refused_township["id"])
    assert detail["decisions"][-1]["reasons"][0]["rule"] == "shexian §13"

    # lhasa §7: a department's third declaration for one plan year is refused.
    department = unique("市公安局")
    results = []
    for n in range(3):
        project = await declare(http, department, "lhasa", title=f"警务系统{n}号")
        results.append((await screen(http, project)).json()["status"])
    assert results == ["accepted", "accepted", "rejected"]
    refusal = (await intake.project(project["id"]))["decisions"][-1]["reasons"][0]
    assert refusal["rule"] == "lhasa §7" and refusal["in_principle"] and "原则上" in refusal["message"]
    # 原则上: the authority may admit a fourth, on the record, with its reason and document.
    fourth = await declare(http, department, "lhasa", title="警务系统3号")
    screening = f"/projects/{fourth['id']}/screening"
    excepted = {
        "code": "too_many_declarations",
        "reason": "市委部署的专项任务",
        "document_ref": "拉政办〔2026〕8号",
    }
    admitted = await http.post(screening, headers=authority("lhasa"), json={"exceptions": [excepted]})
    assert admitted.status_code == 200 and admitted.json()["status"] == "accepted", admitted.text
    (made,) = [f for f in admitted.json()["flags"] if f["code"] == "exception:too_many_declarations"]
    assert made["articles"] == ["lhasa §7"] and "拉政办〔2026〕8号" in made["message"]
    # Only a 原则上 refusal admits an exception (lhasa §8 forbids new machine rooms outright).
    room = await declare(http, unique("机房局"), "lhasa", deployment="own_machine_room")
    no_room = {"code": "new_machine_room", "reason": "急需", "document_ref": "拉政办〔2026〕9号"}
    refused = await http.post(
        f"/projects/{room['id']}/screening", headers=authority("lhasa"), json={"exceptions": [no_room]}
    )
    assert refused.status_code == 422 and refused.json()["code"] == "exception_refused", refused.text

    # xunyang §11 and lhasa §8: no new machine rooms of one's own; shexian has no such article.
    for jurisdiction, expected in (("xunyang", "xunyang §11"), ("lhasa", "lhasa §8"), ("shexian", None)):
        room = await declare(http, unique("机房局"), jurisdiction, deployment="own_machine_room")
        screened = (await screen(http, room)).json()
        event = await eventually(lambda r=room: event_of(bus, r["id"], "project_screened"))
        rules = {r["code"]: r["rule"] for r in event["reasons"]}
        assert rules.get("new_machine_room") == expected, jurisdiction
        assert screened["status"] == ("rejected" if expected else "accepted")


async def test_similar_declarations_that_together_cross_a_threshold_are_flagged_in_shexian(
    intake: Intake,
) -> None:
    http = intake.http
    agency = unique("县教育局")
    # Two 60万 declarations of one system: each under the 100万 limit, together over it (shexian §12).
    first = await declare(http, agency, "shexian", title="智慧校园一期", amount_fen=60_000_000)
    second = await declare(http, agency, "shexian", title="智慧校园二期", amount_fen=60_000_000)
    assert first["flags"] == []
    [flag] = second["flags"]
    assert flag["code"] == "possible_split" and flag["rule"] == "shexian §12"
    assert first["id"] in flag["message"]
    screened = (await screen(http, second)).json()
    assert screened["status"] == "accepted", "a flag is for the authority to judge, not a refusal"
    event = await eventually(lambda: event_of(intake.bus, second["id"], "project_screened"))
    assert event["flags"][0]["code"] == "possible_split"
    # A different system of the same agency is not flagged, nor is the same split in zhonglou.
    other = await declare(http, agency, "shexian", title="财务报账系统", amount_fen=60_000_000)
    assert other["flags"] == []


async def test_plan_deadlines_of_each_jurisdiction(intake: Intake) -> None:
    http = intake.http
    # zhonglou §6: Sep 30 is the last day for next year's plan; on Oct 1 it is refused.
    intake.clock.now = datetime(2026, 9, 30, 15, 0, tzinfo=UTC)  # 23:00 in Shanghai, still Sep 30
    on_time = await declare(http, unique("区民政局"), "xunyang")
    assert on_time["plan_year"] == 2027
    intake.clock.now = datetime(2026, 9, 30, 16, 30, tzinfo=UTC)  # 00:30 Oct 1 in Shanghai
    agency = unique("区民政局")
    await register(http, "zhonglou", agency)
    late = await draft(http, agency, "zhonglou")
    await upload_all(http, late, "declaration")
    refused = await submit(http, late)
    assert refused.status_code == 422 and codes(refused.json()) == {
        "declaration_deadline_passed": "zhonglou §6"
    }
    assert (await intake.project(late["id"]))["status"] == "draft", "nothing of a refused submission is kept"
    # Asking for the year after next is still in time.
    await http.patch(
        f"/projects/{late['id']}", headers=bearer(Role.APPLICANT, agency), json={"requested_plan_year": 2028}
    )
    assert (await submit(http, late)).json()["plan_year"] == 2028

    # lhasa §7: after Aug 31 a declaration rolls into the year after next, with a note; pre-review
    # on the 4th Thursday of the month.
    intake.clock.now = datetime(2026, 9, 2, 2, 0, tzinfo=UTC)
    rolled = await declare(http, unique("市交通局"), "lhasa")
    assert rolled["plan_year"] == 2028
    detail = await intake.project(rolled["id"])
    assert detail["notes"][0]["rule"] == "lhasa §7" and detail["review_batch"] == "2026-09-24"

    # bayingolin §10: O&M projects are declared in the third quarter only; §9 build projects any time.
    intake.clock.now = datetime(2026, 10, 8, 2, 0, tzinfo=UTC)
    agency = unique("州水利局")
    await register(http, "bayingolin", agency)
    om = await draft(
        http,
        agency,
        "bayingolin",
        kind="operation",
        amount_fen=3_000_000,
        predecessor_acceptance_ref="巴数验〔2023〕5号",
    )
    await upload_all(http, om, "declaration")
    refused = await submit(http, om)
    assert codes(refused.json()) == {"outside_om_window": "bayingolin §10"}
    intake.clock.now = datetime(2026, 8, 3, 2, 0, tzinfo=UTC)
    assert (await submit(http, om)).json()["plan_year"] == 2027
    intake.clock.now = datetime(2026, 12, 3, 2, 0, tzinfo=UTC)
    build = await declare(http, agency, "bayingolin", title="智慧水利")
    assert build["status"] == "declared"


async def test_nothing_outside_the_plan_is_approved_except_by_the_emergency_path(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    agency = unique("县应急局")
    # Admitted and reviewed, but not in the plan: shexian §15.
    project = await declare(http, agency, "shexian", amount_fen=80_000_000)
    await screen(http, project)
    await upload_all(http, project)
    await publish(bus, review_passed(project))
    await eventually(lambda: _field(intake, project["id"], "review_verdict", "pass"))
    refused = await approve(http, project)
    assert codes(refused.json()) == {"not_in_plan": "shexian §15"}

    # An emergency addition of 600万 in shexian: §14 sign-offs and §25 escalation to 市 and 省.
    emergency = await declare(
        http,
        agency,
        "shexian",
        title="防汛指挥调度系统",
        amount_fen=600_000_000,
        off_plan=True,
        off_plan_reason="汛期紧急",
    )
    assert emergency["plan_year"] == 2026 and emergency["off_plan"] is True
    await screen(http, emergency)
    await upload_all(http, emergency)
    await publish(bus, review_passed(emergency, stage="feasibility"))
    await eventually(lambda: _field(intake, emergency["id"], "review_verdict", "pass"))
    refused = (await approve(http, emergency)).json()
    assert codes(refused) == {
        "signoff_missing:city_review": "shexian §25",
        "signoff_missing:province_review": "shexian §25",
        "signoff_missing:joint_consultation": "shexian §14",
        "signoff_missing:county_government_decision": "shexian §14",
    }
    wrong = await http.post(
        f"/projects/{emergency['id']}/signoffs",
        headers=AUTHORITY,
        json={"signoff": "pope", "document_ref": "x号"},
    )
    assert wrong.status_code == 422
    for signoff in ("city_review", "province_review", "joint_consultation", "county_government_decision"):
        response = await http.post(
            f"/projects/{emergency['id']}/signoffs",
            headers=AUTHORITY,
            json={"signoff": signoff, "document_ref": f"{signoff}〔2026〕1号"},
        )
        assert response.status_code == 201, response.text
    approved = await approve(http, emergency)
    assert approved.status_code == 200, approved.text
    event = await eventually(lambda: event_of(bus, emergency["id"], "project_approved"))
    assert event["off_plan"] is True and "shexian §14" in event["articles"]


async def test_shexian_om_projects_in_a_published_plan_need_no_further_approval(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    agency = unique("县政务服务中心")
    om = await declare(
        http, agency, "shexian", kind="operation", title="政务服务平台运维", amount_fen=30_000_000
    )
    build = await declare(http, agency, "shexian", title="政务服务平台升级", amount_fen=90_000_000)
    for project in (om, build):
        assert (await screen(http, project)).json()["status"] == "accepted"
    # Publishing the plan approves the O&M project (§20(三)), so it waits for the expert review
    # as 批复 does (§7: 未经专家论证评审的项目，不予审批; §12: 经专家论证后纳入项目库): refused the
    # same way, 422 naming the project with the article, and nothing is published. The building
    # project is not held: its review (可研) comes after the plan, before its own 批复.
    refused = await publish_plan(http, "shexian", 2027, build["id"], om["id"])
    assert refused.status_code == 422 and refused.json()["code"] == "approval_refused"
    assert codes(refused.json()) == {"review_not_passed": "shexian §7"}
    assert om["title"] in refused.json()["reasons"][0]["message"]
    assert (await intake.project(om["id"]))["status"] == "accepted"
    unpublished = await http.get("/plans/shexian/2027", headers=AUTHORITY)
    assert unpublished.json()["status"] == "draft"

    # The 论证 the review service opened on screening passes: the plan goes out and approves it.
    await publish(bus, review_passed(om, stage="demonstration"))
    await eventually(lambda: _field(intake, om["id"], "review_verdict", "pass"))
    published = await publish_plan(http, "shexian", 2027, build["id"], om["id"])
    assert published.status_code == 200, published.text
    assert [e["status"] for e in published.json()["entries"]] == ["in_plan", "approved"]
    event = await eventually(lambda: event_of(bus, om["id"], "project_approved"))
    assert event["approval_number"] == f"{published.json()['document']}第2项"
    assert "shexian §20" in event["articles"]
    # A published plan is closed; late additions go through the emergency path.
    late = await declare(http, agency, "shexian", title="档案数字化", amount_fen=10_000_000)
    await screen(http, late)
    again = await http.put("/plans/shexian/2027", headers=AUTHORITY, json={"ranking": [late["id"]]})
    assert again.status_code == 409 and "本系统默认，非办法条文" in again.json()["detail"]


async def test_zhonglou_adjusts_a_published_plan_only_by_the_authoritys_exception(intake: Intake) -> None:
    """zhonglou §9 年度项目计划一经确定，原则上不予调整: a further publication is refused, citing the
    article as 原则上, until the authority departs from it with its reason and document."""
    http, bus = intake.http, intake.bus
    agency = unique("区住建局")
    first = await declare(http, agency, "zhonglou", title="智慧工地")
    await screen(http, first)
    published = await publish_plan(http, "zhonglou", 2027, first["id"])
    assert published.status_code == 200, published.text
    late = await declare(http, agency, "zhonglou", title="燃气安全监测")
    assert (await screen(http, late)).json()["status"] == "accepted"
    url = "/plans/zhonglou/2027"
    ranked = await http.put(url, headers=AUTHORITY, json={"ranking": [late["id"]]})
    assert ranked.status_code == 200, ranked.text
    document = f"钟数发〔2027〕{unique('')}号"
    refused = await http.post(f"{url}/publication", headers=AUTHORITY, json={"document": document})
    assert refused.status_code == 409, refused.text
    (fixed,) = refused.json()["reasons"]
    assert (fixed["code"], fixed["in_principle"], fixed["articles"]) == ("plan_fixed", True, ["zhonglou §9"])
    assert (await intake.project(late["id"]))["status"] == "accepted", "nothing of the refusal is kept"
    excepted = {"code": "plan_fixed", "reason": "区政府常务会议决定增补", "document_ref": "钟政纪〔2027〕9号"}
    body = {"document": document, "exceptions": [excepted]}
    for _ in range(2):  # a retried adjustment changes nothing
        adjusted = await http.post(f"{url}/publication", headers=AUTHORITY, json=body)
        assert adjusted.status_code == 200, adjusted.text
    entries = [(e["project_id"], e["rank"], e["document"]) for e in adjusted.json()["entries"]]
    assert entries == [(first["id"], 1, published.json()["document"]), (late["id"], 2, document)]
    project = await intake.project(late["id"])
    assert project["status"] == "in_plan"
    (flag,) = [f for f in project["flags"] if f["code"] == "exception:plan_fixed"]
    assert flag["articles"] == ["zhonglou §9"] and "钟政纪〔2027〕9号" in flag["message"]
    event = await eventually(lambda: event_of(bus, late["id"], "project_included_in_plan"))
    assert event["plan_document"] == document
    # An exception where nothing is refused is not taken: the first publication of shexian's plan.
    other = await declare(http, unique("县住建局"), "shexian", title="智慧工地")
    await screen(http, other)
    await http.put("/plans/shexian/2027", headers=authority("shexian"), json={"ranking": [other["id"]]})
    needless = await http.post(
        "/plans/shexian/2027/publication",
        headers=authority("shexian"),
        json={"document": "歙计〔2027〕1号", "exceptions": [excepted]},
    )
    assert needless.status_code == 422 and needless.json()["code"] == "exception_refused", needless.text


async def test_bayingolin_issues_the_years_plan_in_batches_after_each_monthly_review(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    agency = unique("州水利局")
    applicant = bearer(Role.APPLICANT, agency)
    # June's review: the first batch of 2026's plan (bayingolin §9: build projects for this year).
    june = await declare(http, agency, "bayingolin", title="智慧水利")
    assert (await screen(http, june)).json()["status"] == "accepted"
    first = await publish_plan(http, "bayingolin", june["plan_year"], june["id"])
    assert first.status_code == 200, first.text
    year, first_document = june["plan_year"], first.json()["document"]

    # July's review passes two more: they join the same year's plan as a second batch, with its
    # own document, instead of taking the emergency path (§15).
    intake.clock.now = datetime(2026, 7, 15, 2, 0, tzinfo=UTC)
    july = await declare(http, agency, "bayingolin", title="河湖长制平台")
    service = await declare(http, agency, "bayingolin", title="水资源课题研究", kind="service")
    for project in (july, service):
        assert (await screen(http, project)).json()["status"] == "accepted"
    url = f"/plans/bayingolin/{year}"
    again = await http.put(url, headers=AUTHORITY, json={"ranking": [june["id"], july["id"]]})
    assert again.status_code == 422 and first_document in again.json()["detail"], "published entries stay"
    ranked = await http.put(url, headers=AUTHORITY, json={"ranking": [service["id"], july["id"]]})
    assert ranked.status_code == 200, ranked.text
    # Until it is published the batch is the authority's: agencies still see the published plan.
    seen = (await http.get(url, headers=applicant)).json()
    assert [e["project_id"] for e in seen["entries"]] == [june["id"]]
    second_document = f"巴数发〔{year}〕{unique('')}号"
    for _ in range(2):  # a retried publication changes nothing
        second = await http.post(f"{url}/publication", headers=AUTHORITY, json={"document": second_document})
        assert second.status_code == 200, second.text
    plan = second.json()
    assert [(e["project_id"], e["rank"], e["document"], e["status"]) for e in plan["entries"]] == [
        (june["id"], 1, first_document, "in_plan"),
        (service["id"], 2, second_document, "in_plan"),
        (july["id"], 3, second_document, "in_plan"),
    ]
    assert plan["document"] == first_document
    # Each newly planned project gets the event an annual plan gives (procurement's §16 and §21
    # clocks, funding's plan gate); the first batch's projects get no second one.
    event = await eventually(lambda: event_of(bus, july["id"], "project_included_in_plan"))
    assert (event["plan_year"], event["rank"], event["plan_document"]) == (year, 3, second_document)
    assert event["articles"] == ["bayingolin §15"]
    included = [k for k, _ in await events_of(bus, june["id"]) if k.endswith("project_included_in_plan.v1")]
    assert len(included) == 1

    # Nothing new to publish, or a document already used by an earlier batch, is refused.
    empty = await http.post(f"{url}/publication", headers=AUTHORITY, json={"document": "巴数发〔2026〕99号"})
    assert empty.status_code == 422
    late = await declare(http, agency, "bayingolin", title="水旱灾害防御系统")
    await screen(http, late)
    await http.put(url, headers=AUTHORITY, json={"ranking": [late["id"]]})
    reused = await http.post(f"{url}/publication", headers=AUTHORITY, json={"document": first_document})
    assert reused.status_code == 409

    # Planned by the second batch, the July project is approved the ordinary way.
    await publish(bus, review_passed(july))
    await eventually(lambda: _field(intake, july["id"], "review_verdict", "pass"))
    await upload_all(http, july)
    approved = await approve(http, july)
    assert approved.status_code == 200, approved.text
    assert approved.json()["off_plan"] is False


async def test_approving_more_than_was_declared_needs_what_the_larger_amount_needs(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    agency = unique("县自然资源局")
    # Declared just under shexian's 500万 line and approved at 600万: the 市/省 review of §25 is
    # asked of the larger amount, saying why; so is the 初步设计 of §20(一), which follows the 可研
    # approval as an approval of its own.
    project = await declare(http, agency, "shexian", title="不动产登记平台", amount_fen=499_990_000)
    refused = await take_to_approval(http, bus, project, 600_000_000)
    assert refused.status_code == 422 and refused.json()["code"] == "approval_refused"
    assert codes(refused.json()) == {
        "signoff_missing:city_review": "shexian §25",
        "signoff_missing:province_review": "shexian §25",
    }
    assert all(
        r["message"].startswith("批复金额 600 万元高于申报金额 499.99 万元")
        for r in refused.json()["reasons"]
    )

    # What the larger amount needs may be put on file though the declared one did not need it.
    for signoff in ("city_review", "province_review"):
        recorded = await http.post(
            f"/projects/{project['id']}/signoffs",
            headers=AUTHORITY,
            json={"signoff": signoff, "document_ref": f"{signoff}〔2026〕7号"},
        )
        assert recorded.status_code == 201, recorded.text
    approved = await approve(http, project, 600_000_000)
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_amount_fen"] == 600_000_000
    assert (await upload(http, project, "preliminary_design")).status_code == 201  # for the 初步设计 approval

    # The project's checklist is now that of the approved amount, with what was put on file.
    detail = await intake.project(project["id"])
    design = [m for m in detail["required_materials"] if m["material"] == "preliminary_design"]
    assert [(m["article"], m["stage"], m["complete"]) for m in design] == [
        ("shexian §20(一)", "design_approval", True)
    ]
    assert {(s["signoff"], s["article"], s["recorded"]) for s in detail["required_signoffs"]} >= {
        ("city_review", "shexian §25", True),
        ("province_review", "shexian §25", True),
    }


async def test_bars_from_later_stages_stop_new_declarations_while_they_last(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    agency = unique("县人社局")
    earlier = await declare(http, agency, "shexian")
    # Acceptance refuses the data-sharing confirmation of an earlier system (shexian §44(一)).
    await publish(
        bus,
        DataSharingDecided(
            project_id=earlier["id"],
            jurisdiction="shexian",
            agency=agency,
            decision="refused",
            reason="未挂接目录",
        ),
        source="/govit/acceptance",
    )
    await eventually(lambda: _bars(http, "shexian", agency), what="the bar to be recorded")
    project = await draft(http, agency, "shexian", title="就业服务平台")
    await upload_all(http, project, "declaration")
    refused = await submit(http, project)
    assert codes(refused.json()) == {"agency_barred:data_not_shared": "shexian §44(一)"}
    # 续建 is not new, rebuilt or extended: still allowed.
    continued = await declare(http, agency, "shexian", title="社保系统续建", nature="continued")
    assert continued["status"] == "declared"
    # 升级改造 is named beside 新建 in §44 and rebuilds a system: barred like one.
    upgrade = await draft(http, agency, "shexian", title="社保系统升级改造", nature="upgrade")
    await upload_all(http, upgrade, "declaration")
    refused = await submit(http, upgrade)
    assert codes(refused.json()) == {"agency_barred:data_not_shared": "shexian §44(一)"}
    # Confirmed later: the bar is lifted.
    await publish(
        bus,
        DataSharingDecided(
            project_id=earlier["id"], jurisdiction="shexian", agency=agency, decision="confirmed"
        ),
        source="/govit/acceptance",
    )
    declared = await eventually(lambda: _submitted(http, project))
    assert declared["status"] == "declared"

    # zhonglou §21: serious evaluation problems left unfixed bar new projects of the department.
    department = unique("区司法局")
    system = await declare(http, department, "zhonglou")
    await publish(
        bus,
        EvaluationRecorded(
            project_id=system["id"],
            jurisdiction="zhonglou",
            agency=department,
            evaluation="post",
            serious_problems=("数据未共享",),
        ),
        source="/govit/acceptance",
    )
    await eventually(lambda: _bars(http, "zhonglou", department), what="the zhonglou §21 bar")
    # 原则上不得新建: the bar is the authority's to apply at screening, or to depart from with its
    # reason and document; the agency's declaration is made, flagged.
    barred = "agency_barred:evaluation_problems_unfixed"
    blocked = await draft(http, department, "zhonglou", title="公共法律服务平台")
    await upload_all(http, blocked, "declaration")
    made = await submit(http, blocked)
    assert made.status_code == 200 and made.json()["status"] == "declared", made.text
    (flag,) = [f for f in made.json()["flags"] if f["code"] == barred]
    assert flag["articles"] == ["zhonglou §21"] and flag["in_principle"]
    assert (await screen(http, blocked)).json()["status"] == "rejected"
    screened = await eventually(lambda: event_of(bus, blocked["id"], "project_screened"))
    assert codes(screened) == {barred: "zhonglou §21"}
    upgrade = await draft(http, department, "zhonglou", title="公共法律服务平台升级", nature="upgrade")
    await upload_all(http, upgrade, "declaration")
    assert (await submit(http, upgrade)).status_code == 200
    excepted = {
        "code": barred,
        "reason": "涉及法律援助急需，区政府专题会议同意",
        "document_ref": "钟政会〔2026〕3号",
    }
    admitted = await http.post(
        f"/projects/{upgrade['id']}/screening", headers=authority("zhonglou"), json={"exceptions": [excepted]}
    )
    assert admitted.json()["status"] == "accepted", admitted.text
    assert f"exception:{barred}" in [f["code"] for f in admitted.json()["flags"]]

    # With a rectification deadline, the bar starts only after it has passed unfixed.
    patient = unique("区审计局")
    audited = await declare(http, patient, "zhonglou")
    await publish(
        bus,
        EvaluationRecorded(
            project_id=audited["id"],
            jurisdiction="zhonglou",
            agency=patient,
            evaluation="self",
            serious_problems=("未开展等保测评",),
            rectification_due=date(2026, 7, 1),
        ),
        source="/govit/acceptance",
    )
    await eventually(lambda: _bars(http, "zhonglou", patient))
    in_time = await declare(http, patient, "zhonglou", title="审计数据分析平台")
    assert in_time["status"] == "declared"
    intake.clock.now = datetime(2026, 7, 2, 2, 0, tzinfo=UTC)
    overdue = await draft(http, patient, "zhonglou", title="审计数据分析平台二期")
    await upload_all(http, overdue, "declaration")
    flagged = (await submit(http, overdue)).json()
    assert barred in [f["code"] for f in flagged["flags"]]
    assert barred not in [f["code"] for f in (await intake.project(in_time["id"]))["flags"]]
    intake.clock.now = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)

    # lhasa §24: an unremedied 等保 finding stops every declaration of the department, 续建 too.
    bureau = unique("市教育局")
    system = await declare(http, bureau, "lhasa")
    await publish(
        bus,
        SecurityAttested(
            project_id=system["id"], jurisdiction="lhasa", agency=bureau, attestation="mlps", compliant=False
        ),
        source="/govit/acceptance",
    )
    await eventually(lambda: _bars(http, "lhasa", bureau), what="the lhasa §24 bar")
    stopped = await draft(http, bureau, "lhasa", title="教育专网续建", nature="continued")
    await upload_all(http, stopped, "declaration")
    refused = await submit(http, stopped)
    assert codes(refused.json()) == {"agency_barred:security_noncompliant": "lhasa §24"}


async def _bars(http: AsyncClient, jurisdiction: str, agency: str) -> list[str]:
    """The grounds of the agency's bars, as the authority sees them."""
    record = await register(http, jurisdiction, agency)
    detail = await http.get(f"/agencies/{record['id']}", headers=AUTHORITY)
    return [b["ground"] for b in detail.json()["bars"]]


async def _submitted(http: AsyncClient, project: dict[str, Any]) -> dict[str, Any] | None:
    response = await submit(http, project)
    return dict(response.json()) if response.status_code == 200 else None


async def test_bayingolin_refuses_an_upgrade_of_a_project_not_yet_accepted(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    agency = unique("州卫健委")
    original = await declare(http, agency, "bayingolin", title="全民健康信息平台")
    upgrade = await draft(
        http,
        agency,
        "bayingolin",
        title="全民健康信息平台升级",
        nature="upgrade",
        predecessor_id=original["id"],
    )
    await upload_all(http, upgrade, "declaration")
    refused = await submit(http, upgrade)
    assert codes(refused.json()) == {"predecessor_not_accepted": "bayingolin §25"}
    unnamed = await draft(http, agency, "bayingolin", title="平台扩容", nature="expansion")
    assert codes((await submit(http, unnamed)).json()) == {"predecessor_required": "bayingolin §25"}
    stranger = unique("别的单位")
    await register(http, "bayingolin", stranger)
    others = await draft(http, stranger, "bayingolin", nature="upgrade", predecessor_id=original["id"])
    assert (await submit(http, others)).status_code == 422, "only the agency's own projects can be named"
    unknown = await draft(
        http, agency, "bayingolin", title="某系统运维", kind="operation", predecessor_id="nope"
    )
    assert (await submit(http, unknown)).status_code == 422

    await publish(
        bus,
        FinalAcceptanceConcluded(
            project_id=original["id"],
            jurisdiction="bayingolin",
            agency=agency,
            passed=True,
            concluded_on=date(2026, 5, 1),
        ),
        source="/govit/acceptance",
    )
    declared = await eventually(lambda: _submitted(http, upgrade), what="the acceptance to be known")
    assert declared["status"] == "declared"


async def test_withdrawal_and_termination_end_a_project_with_an_event(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    agency = unique("区商务局")
    applicant = bearer(Role.APPLICANT, agency)
    project = await declare(http, agency, "xunyang")
    withdrawn = await http.post(
        f"/projects/{project['id']}/withdrawal", headers=applicant, json={"reason": "需求合并"}
    )
    assert withdrawn.json()["status"] == "withdrawn"
    assert (await eventually(lambda: event_of(bus, project["id"], "project_withdrawn")))[
        "reason"
    ] == "需求合并"

    # xunyang needs no expert review before approval (xunyang §8 is a departmental first review).
    approved_one = await declare(http, agency, "xunyang", title="招商服务平台")
    await screen(http, approved_one)
    await publish_plan(http, "xunyang", 2027, approved_one["id"])
    assert (await approve(http, approved_one)).status_code == 200
    other = bearer(Role.APPLICANT, unique("别的局"))
    assert (
        await http.post(f"/projects/{approved_one['id']}/withdrawal", headers=other, json={"reason": "越权"})
    ).status_code == 404
    late = await http.post(
        f"/projects/{approved_one['id']}/withdrawal", headers=applicant, json={"reason": "不做了"}
    )
    assert late.status_code == 409 and late.json()["code"] == "invalid_transition"

    # A deadline only recommends (原则上终止): the project goes on until the authority decides.
    await publish(
        bus,
        TerminationRecommended(
            project_id=approved_one["id"],
            jurisdiction="xunyang",
            reason="批复后逾期未签订合同",
            articles=(),
            deadline="contract",
        ),
        source="/govit/procurement",
    )

    async def recommended() -> bool:
        return (await intake.project(approved_one["id"]))["termination"] is not None

    await eventually(recommended, what="the recommendation recorded")
    shown = await intake.project(approved_one["id"])
    assert shown["status"] == "approved" and shown["termination"]["reason"] == "批复后逾期未签订合同"
    pending = await http.get("/projects", headers=AUTHORITY, params={"termination": "pending"})
    assert approved_one["id"] in [p["id"] for p in pending.json()["items"]]
    decide = f"/projects/{approved_one['id']}/termination-decision"
    incomplete = await http.post(
        decide, headers=AUTHORITY, json={"decision": "keep", "document_ref": "浔数〔2026〕1号"}
    )
    assert incomplete.status_code == 422 and incomplete.json()["code"] == "termination_decision_invalid"
    by_applicant = await http.post(
        decide, headers=applicant, json={"decision": "terminate", "document_ref": "文"}
    )
    assert by_applicant.status_code == 403
    terminated = await http.post(
        decide, headers=AUTHORITY, json={"decision": "terminate", "document_ref": "浔数〔2026〕2号"}
    )
    assert terminated.status_code == 200 and terminated.json()["status"] == "terminated", terminated.text
    again = await http.post(
        decide, headers=AUTHORITY, json={"decision": "terminate", "document_ref": "浔数〔2026〕2号"}
    )
    assert again.status_code == 200  # a retry of the same decision changes nothing
    event = await eventually(lambda: event_of(bus, approved_one["id"], "project_terminated"))
    assert event["reason"] == "批复后逾期未签订合同" and event["document_ref"] == "浔数〔2026〕2号"


async def test_materials_are_stored_with_their_hash_and_checked_against_the_checklist(intake: Intake) -> None:
    http = intake.http
    agency = unique("州统计局")
    await register(http, "bayingolin", agency)
    project = await draft(http, agency, "bayingolin", amount_fen=900_000_000, software_fen=600_000_000)
    materials = {m["material"] for m in await checklist(http, project)}
    assert {"software_study", "info_resource_catalog", "sharing_list", "demand_list"} <= materials

    content = b"%PDF-1.7 software study"
    stored = await http.post(
        f"/projects/{project['id']}/materials",
        headers=bearer(Role.APPLICANT, agency),
        data={"material": "software_study"},
        files={"file": ("软课题.pdf", content, "application/pdf")},
    )
    assert stored.status_code == 201, stored.text
    assert stored.json()["sha256"] == hashlib.sha256(content).hexdigest() and stored.json()["size"] == len(
        content
    )
    download = await http.get(f"/projects/{project['id']}/materials/{stored.json()['id']}", headers=AUTHORITY)
    assert download.content == content

    not_needed = await upload(http, project, "price_comparisons")
    assert not_needed.status_code == 422 and not_needed.json()["code"] == "material_not_accepted"
    executable = await upload(http, project, "demand_list", name="virus.exe")
    assert executable.status_code == 422
    stranger = await http.post(
        f"/projects/{project['id']}/materials",
        headers=bearer(Role.APPLICANT, unique("别的局")),
        data={"material": "demand_list"},
        files={"file": ("a.pdf", b"x", "application/pdf")},
    )
    assert stranger.status_code == 404
    detail = await intake.project(project["id"])
    assert [m["material"] for m in detail["materials"]] == ["software_study"]


async def test_upper_level_funded_projects_are_recorded_where_the_pack_says_so(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    fields = {
        "funding_source": "upper_level",
        "upper_approval_ref": "苏财建〔2026〕88号",
        "kind": "service",
        "software_fen": 40_000_000,
    }
    # Reported before they start, whatever the plan calendar says (zhonglou §10, bayingolin §14).
    intake.clock.now = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
    for jurisdiction in ("zhonglou", "bayingolin"):
        recorded = await declare(http, unique("区卫健局"), jurisdiction, **fields)
        assert recorded["status"] == "recorded"
        event = await eventually(lambda r=recorded: event_of(bus, r["id"], "project_recorded"))
        assert event["articles"] == [f"{jurisdiction} §{10 if jurisdiction == 'zhonglou' else 14}"]
        assert event["upper_approval_ref"] == "苏财建〔2026〕88号"
        # …with what the later stages need of it (zhonglou §15 security test, bayingolin §27 trial run).
        assert (event["kind"], event["software_fen"]) == ("service", 40_000_000)
    intake.clock.now = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)
    agency = unique("区卫健局")
    await register(http, "zhonglou", agency)
    without_ref = await http.post(
        "/projects",
        headers=bearer(Role.APPLICANT, agency),
        json={
            "jurisdiction": "zhonglou",
            "title": "上级项目",
            "kind": "construction",
            "amount_fen": 100,
            "funding_source": "upper_level",
        },
    )
    assert without_ref.status_code == 422 and "upper_approval_ref" in without_ref.json()["detail"]
    # xunyang §7: such projects meet the same declaration requirements and go through screening.
    assert (await declare(http, unique("区卫健局"), "xunyang", **fields))["status"] == "declared"


async def test_declaring_needs_a_registered_agency_and_the_right_role(intake: Intake) -> None:
    http = intake.http
    body = {"jurisdiction": "lhasa", "title": "政务云迁移", "kind": "service", "amount_fen": 9_900}
    unregistered = await http.post("/projects", json=body, headers=bearer(Role.APPLICANT, unique("无名局")))
    assert unregistered.status_code == 422 and unregistered.json()["code"] == "agency_not_registered"
    as_applicant = await http.post(
        "/agencies",
        headers=bearer(Role.APPLICANT, "x"),
        json={"jurisdiction": "lhasa", "name": "某局", "level": "city"},
    )
    assert as_applicant.status_code == 403
    agency = unique("市文旅局")
    await register(http, "lhasa", agency, "city")
    listed = (
        await http.get("/agencies", params={"jurisdiction": "lhasa", "limit": 200}, headers=AUTHORITY)
    ).json()
    assert agency in {a["name"] for a in listed["items"]}
    project = await draft(http, agency, "lhasa")
    screen_by_applicant = await http.post(
        f"/projects/{project['id']}/screening", headers=bearer(Role.APPLICANT, agency)
    )
    assert screen_by_applicant.status_code == 403
    filtered = await http.get(
        "/projects",
        params={"status": "draft", "jurisdiction": "lhasa"},
        headers=bearer(Role.APPLICANT, agency),
    )
    assert [p["id"] for p in filtered.json()["items"]] == [project["id"]]


OFF_PLAN = {
    # jurisdiction: (materials the emergency path adds, sign-offs it needs, with their articles)
    "zhonglou": (
        {"meeting_minutes": "zhonglou §9", "cybersecurity_review_opinion": "zhonglou §9"},
        {"district_leader_consent": "zhonglou §9", "deliberation_passed": "zhonglou §9"},
    ),
    "bayingolin": ({}, {"prefecture_government_funding": "bayingolin §15"}),
    "xunyang": (
        {"off_plan_justification": "xunyang §9"},
        {"authority_review": "xunyang §9", "district_government_approval": "xunyang §9"},
    ),
    "lhasa": ({"off_plan_assessment": "lhasa §6"}, {"city_government_approval": "lhasa §6"}),
}


async def test_the_emergency_path_asks_each_jurisdiction_for_its_documents_and_sign_offs(
    intake: Intake,
) -> None:
    http, bus = intake.http, intake.bus
    for jurisdiction, (materials, signoffs) in OFF_PLAN.items():
        agency = unique("应急管理局")
        await register(http, jurisdiction, agency)
        project = await draft(
            http,
            agency,
            jurisdiction,
            amount_fen=50_000_000,
            off_plan=True,
            off_plan_reason="上级明确要求当年实施",
        )
        wanted = {m["material"]: m for m in await checklist(http, project) if m["stage"] == "declaration"}
        for material, article in materials.items():
            assert wanted[material]["article"] == article and not wanted[material]["complete"]
        await upload_all(http, project, "declaration")
        after = await checklist(http, project)
        assert all(m["complete"] for m in after if m["stage"] == "declaration")
        declared = (await submit(http, project)).json()
        assert declared["plan_year"] == 2026, jurisdiction
        assert (await screen(http, project)).json()["status"] == "accepted", jurisdiction
        if jurisdiction == "zhonglou":  # zhonglou §9: the emergency path skips the plan, not the 论证
            approval_stage = {m["material"]: m["article"] for m in await checklist(http, project)}
            assert approval_stage["demonstration_plan"] == "zhonglou §11"
            assert approval_stage["final_proposal"] == "zhonglou §12"
        await upload_all(http, project)
        await publish(bus, review_passed(project))
        await eventually(lambda p=project: _field(intake, p["id"], "review_verdict", "pass"))
        refused = await approve(http, project)
        assert codes(refused.json()) == {f"signoff_missing:{k}": v for k, v in signoffs.items()}, jurisdiction
        for signoff in signoffs:
            recorded = await http.post(
                f"/projects/{project['id']}/signoffs",
                headers=AUTHORITY,
                json={"signoff": signoff, "document_ref": f"{signoff}〔2026〕3号"},
            )
            assert recorded.status_code == 201, recorded.text
        assert (await approve(http, project)).status_code == 200, jurisdiction


async def test_approval_is_refused_after_a_revise_verdict_and_retries_are_harmless(intake: Intake) -> None:
    http, bus = intake.http, intake.bus
    agency = unique("区数据局")
    first = await declare(http, agency, "zhonglou", title="城市大脑")
    second = await declare(http, agency, "zhonglou", title="一网统管")
    for project in (first, second):
        await screen(http, project)
    wrong_year = await declare(http, agency, "zhonglou", title="明年再说", requested_plan_year=2028)
    await screen(http, wrong_year)
    mixed = await http.put(
        "/plans/zhonglou/2027", headers=AUTHORITY, json={"ranking": [first["id"], wrong_year["id"]]}
    )
    assert mixed.status_code == 422 and mixed.json()["detail"].startswith("ranking[1]")
    document = "钟政办〔2027〕1号"
    ranked = await http.put(
        "/plans/zhonglou/2027", headers=AUTHORITY, json={"ranking": [second["id"], first["id"]]}
    )
    assert [e["project_id"] for e in ranked.json()["entries"]] == [second["id"], first["id"]]
    for _ in range(2):  # a retried publication changes nothing
        published = await http.post(
            "/plans/zhonglou/2027/publication", headers=AUTHORITY, json={"document": document}
        )
        assert published.status_code == 200
    other = await http.post(
        "/plans/zhonglou/2027/publication", headers=AUTHORITY, json={"document": "另一个文号"}
    )
    # Another document with nothing ranked since: no adjustment to publish (zhonglou §9).
    assert other.status_code == 422 and "没有新增项目" in other.json()["detail"], other.text

    # The panel asks for revision: no approval yet (zhonglou §11–12).
    await publish(bus, review_passed(first, verdict="revise"))
    await eventually(lambda: _field(intake, first["id"], "review_verdict", "revise"))
    await upload_all(http, first)
    refused = (await approve(http, first)).json()
    assert (
        codes(refused) == {"review_not_passed": "zhonglou §11"}
        and "修改后再审" in refused["reasons"][0]["message"]
    )
    rejected = await http.post(
        f"/projects/{first['id']}/rejection", headers=AUTHORITY, json={"reason": "重复建设"}
    )
    assert rejected.json()["status"] == "rejected"
    assert (await eventually(lambda: event_of(bus, first["id"], "project_rejected")))["reason"] == "重复建设"

    # Approving twice with the same number is one approval; a number already used is refused.
    await publish(bus, review_passed(second))
    await eventually(lambda: _field(intake, second["id"], "review_verdict", "pass"))
    await upload_all(http, second)
    body = {"approval_number": unique("钟政复"), "approved_amount_fen": second["amount_fen"]}
    responses = [
        await http.post(f"/projects/{second['id']}/approval", headers=AUTHORITY, json=body) for _ in range(2)
    ]
    assert [r.status_code for r in responses] == [200, 200]
    await eventually(lambda: event_of(bus, second["id"], "project_approved"))
    approvals = [k for k, _ in await events_of(bus, second["id"]) if k.endswith("project_approved.v1")]
    assert len(approvals) == 1
    changed = await http.post(
        f"/projects/{second['id']}/approval", headers=AUTHORITY, json={**body, "approved_amount_fen": 1}
    )
    assert changed.status_code == 409
    third = await declare(http, agency, "zhonglou", title="第三个", requested_plan_year=2028)
    await screen(http, third)
    clash = await http.post(f"/projects/{third['id']}/approval", headers=AUTHORITY, json=body)
    assert clash.status_code == 409 and body["approval_number"] in clash.json()["detail"]

    unknown_field = await http.patch(
        f"/projects/{third['id']}", headers=bearer(Role.APPLICANT, agency), json={"jurisdiction": "lhasa"}
    )
    assert unknown_field.status_code == 422 and unknown_field.json()["errors"][0]["loc"][-1] == "jurisdiction"


async def test_another_jurisdictions_authority_can_neither_screen_plan_approve_nor_see_its_projects(
    intake: Intake,
) -> None:
    http = intake.http
    zhonglou, lhasa = authority("zhonglou"), authority("lhasa")
    mine = await declare(http, unique("区教育局"), "zhonglou")
    theirs = await declare(http, unique("市教育局"), "lhasa", "city")
    pid, year = mine["id"], mine["plan_year"]

    # lhasa's authority finds a zhonglou project exactly as it finds a missing one.
    missing = (await http.get("/projects/no-such-project", headers=lhasa)).json()
    for method, path, body in (
        ("GET", f"/projects/{pid}", None),
        ("POST", f"/projects/{pid}/screening", None),
        (
            "POST",
            f"/projects/{pid}/approval",
            {"approval_number": "拉批〔2026〕1号", "approved_amount_fen": 1},
        ),
        ("POST", f"/projects/{pid}/rejection", {"reason": "不予批复"}),
    ):
        response = await http.request(method, path, headers=lhasa, json=body)
        assert response.status_code == 404, f"{method} {path}: {response.text}"
        assert (response.json()["code"], response.json()["title"]) == (missing["code"], missing["title"])
    # A request naming zhonglou is refused outright: its plan is not lhasa's to rank, publish or read.
    for method, path, body in (
        ("PUT", f"/plans/zhonglou/{year}", {"ranking": [pid]}),
        ("POST", f"/plans/zhonglou/{year}/publication", {"document": "拉计〔2026〕1号"}),
        ("GET", f"/plans/zhonglou/{year}", None),
        ("POST", "/agencies", {"jurisdiction": "zhonglou", "name": unique("区某局"), "level": "district"}),
    ):
        response = await http.request(method, path, headers=lhasa, json=body)
        assert response.status_code == 403, f"{method} {path}: {response.text}"
        assert response.json()["code"] == "forbidden_jurisdiction" and "zhonglou" in response.json()["detail"]
    assert (await intake.project(pid))["status"] == "declared"  # nothing happened to it

    # Each authority's list shows its own jurisdiction's projects; one of both jurisdictions sees both.
    async def listed(headers: dict[str, str], **params: str) -> set[str]:
        page = (await http.get("/projects", params={"limit": 200, **params}, headers=headers)).json()
        return {p["id"] for p in page["items"]}

    assert pid in await listed(zhonglou) and theirs["id"] not in await listed(zhonglou)
    assert theirs["id"] in await listed(lhasa) and pid not in await listed(lhasa)
    both = bearer(Role.AUTHORITY, jurisdictions=["zhonglou", "lhasa"])
    assert {pid, theirs["id"]} <= await listed(both)
    filtered = await http.get("/projects", params={"jurisdiction": "zhonglou"}, headers=lhasa)
    assert filtered.status_code == 403 and filtered.json()["code"] == "forbidden_jurisdiction"
    agencies = (await http.get("/agencies", params={"limit": 200}, headers=lhasa)).json()["items"]
    assert {a["jurisdiction"] for a in agencies} == {"lhasa"}

    # zhonglou's own authority screens and plans it; an agency's token naming lhasa does not reach it.
    assert (await screen(http, mine)).json()["status"] == "accepted"
    assert (await publish_plan(http, "zhonglou", year, pid)).status_code == 200
    elsewhere = bearer(Role.APPLICANT, mine["agency"], jurisdictions=["lhasa"])
    assert (await http.get(f"/projects/{pid}", headers=elsewhere)).status_code == 404
    assert (await http.get(f"/projects/{pid}", headers=applicant(mine))).status_code == 200


async def test_evaluation_results_are_shown_beside_screening_and_ranking_never_refusing(
    intake: Intake,
) -> None:
    """zhonglou §20: 年度项目评价结果作为下一年度安排项目投资…的重要依据 — shown, not a ground."""
    http, bus = intake.http, intake.bus
    department = unique("区民政局")
    system = await declare(http, department, "zhonglou", title="社会救助平台")
    await publish(
        bus,
        EvaluationRecorded(
            project_id=system["id"],
            jurisdiction="zhonglou",
            agency=department,
            evaluation="self",
            serious_problems=("响应超时",),
            rectified=True,
        ),
        source="/govit/acceptance",
    )

    await eventually(lambda: _kept(intake, system["id"]), what="the evaluation kept by intake")
    following = await declare(http, department, "zhonglou", title="养老服务平台")
    screened = await screen(http, following)
    assert screened.status_code == 200 and screened.json()["status"] == "accepted", screened.text
    (basis,) = [f for f in screened.json()["flags"] if f["code"] == "basis:evaluation"]
    assert basis["articles"] == ["zhonglou §20"]
    assert (
        "社会救助平台" in basis["message"]
        and "响应超时" in basis["message"]
        and "已整改到位" in basis["message"]
    )

    ranked = await http.put(
        f"/plans/zhonglou/{following['plan_year']}",
        headers=authority("zhonglou"),
        json={"ranking": [following["id"]]},
    )
    assert ranked.status_code == 200, ranked.text
    (entry,) = [e for e in ranked.json()["entries"] if e["project_id"] == following["id"]]
    assert [b["code"] for b in entry["bases"]] == ["basis:evaluation"]

    # lhasa §22 makes the results a basis for O&M funds only: nothing shown at screening.
    bureau = unique("市交通局")
    lhasa_system = await declare(http, bureau, "lhasa", title="交通运行监测平台")
    await publish(
        bus,
        EvaluationRecorded(
            project_id=lhasa_system["id"], jurisdiction="lhasa", agency=bureau, evaluation="post"
        ),
        source="/govit/acceptance",
    )
    await eventually(lambda: _kept(intake, lhasa_system["id"]), what="the lhasa evaluation")
    later = await declare(http, bureau, "lhasa", title="公交调度系统")
    flags = (await screen(http, later)).json()["flags"]
    assert "basis:evaluation" not in [f["code"] for f in flags]


async def _kept(intake: Intake, project_id: str) -> bool:
    return (await intake.project(project_id)).get("evaluation") is not None


async def test_the_authority_may_approve_outside_the_plan_by_exception_where_the_text_says_in_principle(
    intake: Intake,
) -> None:
    """shexian §15 未纳入年度计划的项目原则上不予审批: refused, unless the authority departs from it with
    its reason and document; zhonglou §9 says 不得擅自建设, with no such latitude."""
    http, bus = intake.http, intake.bus
    project = await declare(http, unique("县文旅局"), "shexian", title="智慧旅游平台")
    assert (await screen(http, project)).json()["status"] == "accepted"
    await publish(bus, review_passed(project))

    await eventually(lambda: _verdict(intake, project["id"]), what="the review's pass")
    await upload_all(http, project)
    refused = await approve(http, project)
    assert refused.status_code == 422, refused.text
    (not_in_plan,) = [r for r in refused.json()["reasons"] if r["code"] == "not_in_plan"]
    assert not_in_plan["in_principle"] and not_in_plan["articles"] == ["shexian §15"]
    excepted = {
        "code": "not_in_plan",
        "reason": "省定民生实事，县政府常务会议同意",
        "document_ref": "歙政办〔2026〕21号",
    }
    approved = await http.post(
        f"/projects/{project['id']}/approval",
        headers=authority("shexian"),
        json={
            "approval_number": "歙数批〔2026〕77号",
            "approved_amount_fen": project["amount_fen"],
            "exceptions": [excepted],
        },
    )
    assert approved.status_code == 200 and approved.json()["status"] == "approved", approved.text
    assert "exception:not_in_plan" in [f["code"] for f in approved.json()["flags"]]

    # zhonglou: the plan is not 原则上 — no exception to make.
    strict = await declare(http, unique("区文旅局"), "zhonglou", title="文旅数据平台")
    assert (await screen(http, strict)).json()["status"] == "accepted"
    await publish(bus, review_passed(strict))
    await eventually(lambda: _verdict(intake, strict["id"]), what="the zhonglou review's pass")
    await upload_all(http, strict)
    denied = await http.post(
        f"/projects/{strict['id']}/approval",
        headers=authority("zhonglou"),
        json={
            "approval_number": "钟批〔2026〕5号",
            "approved_amount_fen": strict["amount_fen"],
            "exceptions": [excepted],
        },
    )
    assert denied.status_code == 422 and denied.json()["code"] == "exception_refused", denied.text


async def _verdict(intake: Intake, project_id: str) -> bool:
    return (await intake.project(project_id))["review_verdict"] == "pass"


async def test_the_project_list_finds_projects_by_words_of_their_title_or_id(intake: Intake) -> None:
    http = intake.http
    agency = unique("单位")
    platform = await declare(http, agency, "zhonglou", title="一网通办平台升级")
    other = await declare(http, agency, "zhonglou", title="视频会议系统_100%国产化")
    mine = applicant(platform)

    async def found(q: str) -> list[str]:
        listed = await http.get("/projects", headers=mine, params={"q": q})
        assert listed.status_code == 200, listed.text
        return [p["id"] for p in listed.json()["items"]]

    assert await found("通办") == [platform["id"]]
    assert await found(other["id"][:12]) == [other["id"]]
    assert await found("_100%") == [other["id"]]  # taken as written, not as LIKE's wildcards
    assert await found("一网%升级") == [] and await found("一网通_平台") == []
    assert await found("会议系统") == [other["id"]]
