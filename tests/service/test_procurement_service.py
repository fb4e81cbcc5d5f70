"""The procurement service over HTTP and events, on SQLite and PostgreSQL with a real JetStream.

Projects arrive as intake's and review's events, published onto the stream as those services do.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient, Response
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.procurement.consumers import SUBSCRIPTIONS
from services.procurement.db import ProcurementUnitOfWork
from services.procurement.main import SPEC
from services.procurement.main import create_app as create_procurement
from services.procurement.settings import ProcurementSettings
from shared.auth import Role
from shared.bus import Ack, DeadLetter, Delivery, JetStreamBus, Retry
from shared.consume import EventDispatcher, HandlerContext
from shared.contracts import Event, encode, subject_for
from shared.contracts.intake import (
    ProjectApproved,
    ProjectDeclared,
    ProjectIncludedInPlan,
    ProjectTerminated,
    TerminationDecided,
)
from shared.contracts.review import ReviewConcluded
from shared.db import create_engine, migrate
from shared.metrics import Metrics
from shared.policy import load_registry
from shared.workdays import WorkingCalendar
from tests.conftest import bearer, eventually, real_bus, running, unique
from tests.intake_flow import APPROVAL_STAGE, Clock, events_of, publish

AUTHORITY = bearer(Role.AUTHORITY, sub="数据资源局")
FINANCE = bearer(Role.FINANCE, sub="财政局")
WAN = 1_000_000  # 1万元 in fen
CONTRACTOR = ("某某信息技术有限公司", "91320400MA1XXXXX0A")
SUPERVISOR = ("某某工程监理有限公司", "91320400MA1YYYYY0B")


@dataclass
class Procurement:
    http: AsyncClient
    bus: JetStreamBus
    clock: Clock


@pytest.fixture
async def procurement(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[Procurement]:
    clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    settings = ProcurementSettings(
        database_url=await make_database("procurement"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    app = create_procurement(settings, clock=clock)
    async with real_bus(nats_url, isolation, clock) as bus, running(app) as http:
        yield Procurement(http, bus, clock)


async def published_at(p: Procurement, event: Event, source: str, time: datetime) -> None:
    """An event that happened at `time` and reaches procurement only now (an outage, a replay)."""
    event_id = str(uuid.uuid4())
    raw = encode(event, source=source, event_id=event_id, time=time)
    await p.bus.publish(subject_for(p.bus.prefix, event), raw, {"Nats-Msg-Id": event_id})


def agency_of(project: dict[str, Any]) -> dict[str, str]:
    return bearer(Role.APPLICANT, project["agency"], sub="建设单位经办人")


async def declared(
    p: Procurement, jurisdiction: str, amount_fen: int = 200 * WAN, software_fen: int = 0
) -> dict[str, Any]:
    """A project as intake declares it; waits until procurement knows it."""
    project = {
        "id": unique("p"),
        "jurisdiction": jurisdiction,
        "agency": unique("单位"),
        "amount_fen": amount_fen,
    }
    await publish(
        p.bus,
        ProjectDeclared(
            project_id=project["id"],
            jurisdiction=jurisdiction,
            agency=project["agency"],
            title="政务服务平台",
            kind="construction",
            amount_fen=amount_fen,
            software_fen=software_fen,
            plan_year=2026,
        ),
        "/govit/intake",
    )
    await eventually(lambda: known(p, project), what="procurement to record the declaration")
    return project


async def known(p: Procurement, project: dict[str, Any], **expect: Any) -> dict[str, Any] | None:
    response = await p.http.get(f"/projects/{project['id']}", headers=AUTHORITY)
    if response.status_code != 200:
        return None
    body: dict[str, Any] = response.json()
    return body if all(body.get(k) == v for k, v in expect.items()) else None


async def approved(
    p: Procurement, jurisdiction: str, amount_fen: int = 200 * WAN, **kw: Any
) -> dict[str, Any]:
    project = await declared(p, jurisdiction, amount_fen, **kw)
    await publish(
        p.bus,
        ProjectIncludedInPlan(
            project_id=project["id"],
            jurisdiction=jurisdiction,
            plan_year=2026,
            rank=1,
            plan_document="计〔2026〕1号",
        ),
        "/govit/intake",
    )
    await publish(
        p.bus,
        ReviewConcluded(
            project_id=project["id"],
            jurisdiction=jurisdiction,
            case_id=uuid.uuid4().hex,
            stage=APPROVAL_STAGE[jurisdiction],  # type: ignore[arg-type]
            verdict="pass",
        ),
    )
    await publish(
        p.bus,
        ProjectApproved(
            project_id=project["id"],
            jurisdiction=jurisdiction,
            approved_amount_fen=amount_fen,
            plan_year=2026,
        ),
        "/govit/intake",
    )
    await eventually(lambda: known(p, project, status="approved"), what="procurement to record the approval")
    return project


def contract_body(
    role: str = "construction",
    firm: tuple[str, str] = CONTRACTOR,
    amount_fen: int = 180 * WAN,
    signed_on: date = date(2026, 3, 2),
    **extra: Any,
) -> dict[str, Any]:
    return {
        "role": role,
        "counterparty": firm[0],
        "credit_code": firm[1],
        "amount_fen": amount_fen,
        "signed_on": signed_on.isoformat(),
        "starts_on": signed_on.isoformat(),
        "ends_on": (signed_on + timedelta(days=180)).isoformat(),
        "milestones": [
            {"name": "预付款", "stage": "signing", "share_percent": "30"},
            {"name": "初验", "stage": "initial_acceptance", "share_percent": "40"},
            {"name": "终验", "stage": "final_acceptance", "share_percent": "30"},
        ],
        "ip_to_government": True,
        **extra,
    }


async def file(p: Procurement, project: dict[str, Any], **kw: Any) -> Response:
    return await p.http.post(
        f"/projects/{project['id']}/contracts", headers=agency_of(project), json=contract_body(**kw)
    )


def cited(response: Response) -> list[str]:
    return [a for reason in response.json().get("reasons", []) for a in reason["articles"]]


async def types(p: Procurement, project: dict[str, Any]) -> list[str]:
    return [kind for kind, _ in await events_of(p.bus, project["id"])]


async def event(
    p: Procurement, project: dict[str, Any], name: str, at_least: int = 1
) -> list[dict[str, Any]]:
    """The project's procurement events of one name, once there are `at_least` of them."""

    async def found() -> list[dict[str, Any]] | None:
        got = [d for k, d in await events_of(p.bus, project["id"]) if k == f"govit.procurement.{name}.v1"]
        return got if len(got) >= at_least else None

    return list(await eventually(found, what=f"procurement.{name}"))


# -- before approval; supervision; completion ---------------------------------------------------------


async def test_zhonglou_nothing_is_procured_before_approval_and_construction_waits_for_its_supervisor(
    procurement: Procurement,
) -> None:
    p = procurement
    project = await declared(p, "zhonglou", 50 * WAN, software_fen=20 * WAN)
    early = await file(p, project)
    assert early.status_code == 409, early.text
    assert early.headers["content-type"].startswith("application/problem+json")
    assert early.json()["code"] == "procurement_rule_violation" and cited(early) == ["zhonglou §13"]
    tender = await p.http.post(
        f"/projects/{project['id']}/tenders",
        headers=agency_of(project),
        json={
            "method": "public_tender",
            "awarded_on": "2026-03-01",
            "bidders": ["甲", "乙", "丙"],
            "winner": CONTRACTOR[0],
            "winner_credit_code": CONTRACTOR[1],
            "amount_fen": 45 * WAN,
        },
    )
    assert tender.status_code == 409 and cited(tender) == ["zhonglou §13"]
    assert (await known(p, project))["contracts"] == []  # type: ignore[index]

    await publish(
        p.bus,
        ProjectApproved(
            project_id=project["id"], jurisdiction="zhonglou", approved_amount_fen=50 * WAN, plan_year=2026
        ),
        "/govit/intake",
    )
    await eventually(lambda: known(p, project, status="approved"), what="approval")
    filed = await file(p, project, amount_fen=45 * WAN)
    assert filed.status_code == 201, filed.text
    assert [m["amount_fen"] for m in filed.json()["milestones"]] == [135_000_00, 180_000_00, 135_000_00]

    # 50万 ≥ 30万: zhonglou §15 wants a 监理 before building.
    start = await p.http.post(
        f"/projects/{project['id']}/construction/start", headers=agency_of(project), json={}
    )
    assert start.status_code == 409 and cited(start) == ["zhonglou §15"], start.text
    supervision = await file(p, project, role="supervision", firm=SUPERVISOR, amount_fen=2 * WAN)
    assert supervision.status_code == 201, supervision.text
    start = await p.http.post(
        f"/projects/{project['id']}/construction/start", headers=agency_of(project), json={}
    )
    assert start.status_code == 200 and start.json()["status"] == "under_construction", start.text

    # Software was developed: the security test report is wanted at completion (zhonglou §15).
    done = await p.http.post(
        f"/projects/{project['id']}/construction/completion", headers=agency_of(project), json={}
    )
    assert done.status_code == 409 and "security_test_missing" in [r["code"] for r in done.json()["reasons"]]
    done = await p.http.post(
        f"/projects/{project['id']}/construction/completion",
        headers=agency_of(project),
        json={"security_test_report": "测评〔2026〕18号"},
    )
    assert done.status_code == 200 and done.json()["status"] == "completed", done.text
    (completed,) = await event(p, project, "construction_completed")
    assert completed["contract_total_fen"] == 45 * WAN and completed["supervisor"] == SUPERVISOR[0]
    assert completed["contractors"] == [CONTRACTOR[0]] and completed["approved_total_fen"] == 50 * WAN
    filed_events = await event(p, project, "contract_filed", at_least=2)
    assert {e["role"] for e in filed_events} == {"construction", "supervision"}
    assert filed_events[0]["milestones"][0] == {
        "name": "预付款",
        "stage": "signing",
        "share_percent": "30",
        "amount_fen": 135_000_00,
    }


async def test_dates_come_from_when_the_review_and_approval_happened_not_when_they_arrived(
    procurement: Procurement,
) -> None:
    # The review passed on 3/02 and the project was approved on 3/03, but NATS was down: the events
    # reach procurement on 3/20. The work started on 3/10 is after the approval (zhonglou §13) and
    # the three months of zhonglou §17 run from 3/02.
    p = procurement
    project = await declared(p, "zhonglou", 20 * WAN)
    p.clock.now = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    review = ReviewConcluded(
        project_id=project["id"],
        jurisdiction="zhonglou",
        case_id=uuid.uuid4().hex,
        stage=APPROVAL_STAGE["zhonglou"],
        verdict="pass",
    )
    await published_at(p, review, "/govit/review", datetime(2026, 3, 2, 8, 0, tzinfo=UTC))
    approval = ProjectApproved(
        project_id=project["id"], jurisdiction="zhonglou", approved_amount_fen=20 * WAN, plan_year=2026
    )
    # 3/02 17:30 UTC is already 3/03 in Shanghai.
    await published_at(p, approval, "/govit/intake", datetime(2026, 3, 2, 17, 30, tzinfo=UTC))
    detail = await eventually(lambda: known(p, project, status="approved"), what="the approval")
    assert (detail["review_passed_on"], detail["approved_on"]) == ("2026-03-02", "2026-03-03")
    # zhonglou §17 runs from the pass but not before the approval (§13): three months from 3/03.
    assert {d["deadline"]: d["due_on"] for d in detail["deadlines"]}["start"] == "2026-06-03"

    start = await p.http.post(
        f"/projects/{project['id']}/construction/start",
        headers=agency_of(project),
        json={"started_on": "2026-03-10"},
    )
    assert start.status_code == 200 and start.json()["started_on"] == "2026-03-10", start.text


async def test_zhonglou_a_procurement_dated_before_the_approval_is_refused(procurement: Procurement) -> None:
    # Approved on 3/10; a tender announced on 3/05 or a contract signed on 3/09 was procured before
    # the approval (zhonglou §13), even though it is recorded afterwards.
    p = procurement
    project = await declared(p, "zhonglou", 20 * WAN)
    p.clock.now = datetime(2026, 3, 10, 2, 0, tzinfo=UTC)
    await publish(
        p.bus,
        ProjectApproved(
            project_id=project["id"], jurisdiction="zhonglou", approved_amount_fen=20 * WAN, plan_year=2026
        ),
        "/govit/intake",
    )
    await eventually(lambda: known(p, project, status="approved", approved_on="2026-03-10"), what="approval")
    p.clock.now = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    tender = {
        "method": "public_tender",
        "announced_on": "2026-03-05",
        "awarded_on": "2026-03-16",
        "bidders": ["甲", "乙", "丙"],
        "winner": CONTRACTOR[0],
        "winner_credit_code": CONTRACTOR[1],
        "amount_fen": 18 * WAN,
    }
    early = await p.http.post(f"/projects/{project['id']}/tenders", headers=agency_of(project), json=tender)
    assert early.status_code == 409 and cited(early) == ["zhonglou §13"], early.text
    (reason,) = early.json()["reasons"]
    assert reason["code"] == "procured_before_approval"
    assert "2026-03-05" in reason["message"] and "2026-03-10" in reason["message"]
    backdated = await file(p, project, amount_fen=18 * WAN, signed_on=date(2026, 3, 9))
    assert backdated.status_code == 409 and cited(backdated) == ["zhonglou §13"], backdated.text
    detail = await known(p, project)
    assert detail is not None and detail["contract_signed_on"] is None and detail["tenders"] == []

    tendered = await p.http.post(
        f"/projects/{project['id']}/tenders",
        headers=agency_of(project),
        json={**tender, "announced_on": "2026-03-10"},
    )
    assert tendered.status_code == 200, tendered.text
    filed = await file(p, project, amount_fen=18 * WAN, signed_on=date(2026, 3, 17))
    assert filed.status_code == 201, filed.text


async def test_shexian_a_tender_dated_before_the_requirements_review_is_refused(
    procurement: Procurement,
) -> None:
    # shexian §29: the requirements go to the authority before the tender. Reviewed on 3/20, a tender
    # announced on 3/16 and its contract signed on 3/19 came before the review.
    p = procurement
    project = await approved(p, "shexian")
    submitted = await p.http.post(
        f"/projects/{project['id']}/requirements", headers=agency_of(project), json={"summary": "采购需求"}
    )
    assert submitted.status_code == 200, submitted.text
    p.clock.now = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    reviewed = await p.http.post(
        f"/projects/{project['id']}/requirements/review", headers=AUTHORITY, json={"approved": True}
    )
    assert reviewed.status_code == 200, reviewed.text
    p.clock.now = datetime(2026, 3, 25, 2, 0, tzinfo=UTC)
    tender = {
        "method": "public_tender",
        "announced_on": "2026-03-16",
        "awarded_on": "2026-03-24",
        "bidders": ["甲", "乙", "丙"],
        "winner": CONTRACTOR[0],
        "winner_credit_code": CONTRACTOR[1],
        "amount_fen": 180 * WAN,
    }
    early = await p.http.post(f"/projects/{project['id']}/tenders", headers=agency_of(project), json=tender)
    assert early.status_code == 409 and cited(early) == ["shexian §29"], early.text
    (reason,) = early.json()["reasons"]
    assert reason["code"] == "procured_before_requirements_review"
    assert "2026-03-16" in reason["message"] and "2026-03-20" in reason["message"]
    backdated = await file(p, project, signed_on=date(2026, 3, 19))
    assert backdated.status_code == 409 and cited(backdated) == ["shexian §29"], backdated.text
    # A 监理 is not bought through the reviewed requirements: its contract is not held to them.
    supervision = await file(p, project, role="supervision", firm=SUPERVISOR, amount_fen=2 * WAN)
    assert supervision.status_code == 201, supervision.text

    tendered = await p.http.post(
        f"/projects/{project['id']}/tenders",
        headers=agency_of(project),
        json={**tender, "announced_on": "2026-03-20"},
    )
    assert tendered.status_code == 200, tendered.text
    assert (await file(p, project, signed_on=date(2026, 3, 25))).status_code == 201


async def test_lhasa_builds_nothing_without_a_supervisor_and_refuses_a_blacklisted_firm(
    procurement: Procurement,
) -> None:
    p = procurement
    project = await approved(p, "lhasa")
    start = await p.http.post(
        f"/projects/{project['id']}/construction/start", headers=agency_of(project), json={}
    )
    assert start.status_code == 409 and set(cited(start)) == {"lhasa §13"}, start.text

    listed = await p.http.put(
        f"/firms/lhasa/{CONTRACTOR[1]}",
        headers=AUTHORITY,
        json={"name": CONTRACTOR[0], "blacklisted": True, "reason": "虚假投标，通报在案"},
    )
    assert listed.status_code == 200, listed.text
    refused = await file(p, project)
    assert refused.status_code == 409 and cited(refused) == ["lhasa §22"], refused.text
    assert "虚假投标" in refused.json()["reasons"][0]["message"]
    # The list is the pack's: zhonglou's regulation keeps none.
    elsewhere = await p.http.put(
        f"/firms/zhonglou/{CONTRACTOR[1]}",
        headers=AUTHORITY,
        json={"name": CONTRACTOR[0], "blacklisted": True, "reason": "x"},
    )
    assert elsewhere.status_code == 422, elsewhere.text
    lifted = await p.http.put(
        f"/firms/lhasa/{CONTRACTOR[1]}", headers=AUTHORITY, json={"name": CONTRACTOR[0], "blacklisted": False}
    )
    assert lifted.status_code == 200
    assert (await file(p, project)).status_code == 201
    assert (
        await file(p, project, role="supervision", firm=SUPERVISOR, amount_fen=3 * WAN)
    ).status_code == 201
    start = await p.http.post(
        f"/projects/{project['id']}/construction/start", headers=agency_of(project), json={}
    )
    assert start.status_code == 200, start.text
    (started,) = await event(p, project, "construction_started")
    assert started["supervisor"] == SUPERVISOR[0] and started["articles"] == ["lhasa §13"]


async def test_shexian_tenders_after_the_requirements_review_and_contracts_vest_ip_in_the_government(
    procurement: Procurement,
) -> None:
    p = procurement
    project = await approved(p, "shexian")
    unreviewed = await file(p, project)
    assert unreviewed.status_code == 409 and cited(unreviewed) == ["shexian §29"], unreviewed.text
    submitted = await p.http.post(
        f"/projects/{project['id']}/requirements",
        headers=agency_of(project),
        json={"summary": "技术与商务需求"},
    )
    assert submitted.status_code == 200 and submitted.json()["requirements"]["status"] == "submitted"
    applicant_review = await p.http.post(
        f"/projects/{project['id']}/requirements/review", headers=agency_of(project), json={"approved": True}
    )
    assert applicant_review.status_code == 403
    reviewed = await p.http.post(
        f"/projects/{project['id']}/requirements/review",
        headers=AUTHORITY,
        json={"approved": True, "comment": "同意"},
    )
    assert reviewed.status_code == 200 and reviewed.json()["requirements"]["status"] == "approved"
    (event_data,) = await event(p, project, "requirements_reviewed")
    assert event_data["approved"] and event_data["articles"] == ["shexian §29"]

    no_ip = await file(p, project, ip_to_government=False)
    assert no_ip.status_code == 409 and cited(no_ip) == ["shexian §40"], no_ip.text
    filed = await file(p, project)
    assert filed.status_code == 201 and not filed.json()["late"]
    (contract,) = await event(p, project, "contract_filed")
    assert contract["articles"] == ["shexian §31"] and contract["ip_to_government"]


async def test_bayingolin_a_late_filing_is_kept_and_marked_with_its_article(procurement: Procurement) -> None:
    p = procurement
    project = await approved(p, "bayingolin")
    p.clock.now = datetime(2026, 10, 14, 2, 0, tzinfo=UTC)  # signed 9/28; the 7th working day is 10/13
    key = {"Idempotency-Key": unique("k")}
    body = contract_body(signed_on=date(2026, 9, 28))
    late = await p.http.post(
        f"/projects/{project['id']}/contracts", headers={**agency_of(project), **key}, json=body
    )
    assert late.status_code == 201, late.text
    assert late.json()["late"] and late.json()["filing_due_on"] == "2026-10-13"
    assert late.json()["notes"][0]["articles"] == ["bayingolin §18"]
    again = await p.http.post(
        f"/projects/{project['id']}/contracts", headers={**agency_of(project), **key}, json=body
    )
    assert again.status_code == 200 and again.json()["id"] == late.json()["id"]
    (filed,) = await event(p, project, "contract_filed")
    assert filed["late"] and filed["notes"][0]["code"] == "contract_filed_late"


# -- deadlines that run by themselves -----------------------------------------------------------------


async def test_bayingolin_deadlines_fire_by_themselves_and_the_contract_one_recommends_termination(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    url = await make_database("procurement")
    settings = ProcurementSettings(
        database_url=url, nats_url=nats_url, var_dir=tmp_path, environment="test", **isolation
    )
    async with real_bus(nats_url, isolation, clock) as bus:
        async with running(create_procurement(settings, clock=clock)) as http:
            p = Procurement(http, bus, clock)
            project = await approved(p, "bayingolin")  # plan issued on 2026-03-02
            plan = await http.post(
                f"/projects/{project['id']}/reports",
                headers=agency_of(project),
                json={"kind": "implementation_plan", "summary": "实施方案和进度计划"},
            )
            assert plan.status_code == 200, plan.text
        # Four months and the filing window after them later (bayingolin §21, §18) the service starts
        # again; its own scan fires, no request needed.
        clock.now = datetime(2026, 7, 14, 2, 0, tzinfo=UTC)
        async with running(create_procurement(settings, clock=clock)) as http:
            p = Procurement(http, bus, clock)
            # The implementation plan within the month is 启动实施 (bayingolin §16): only the
            # contract's deadline is missed.
            missed = await event(p, project, "deadline_missed")
            assert {m["deadline"] for m in missed} == {"contract"}
            contract = next(m for m in missed if m["deadline"] == "contract")
            assert contract["terminate"] and contract["articles"] == ["bayingolin §21"]
            assert contract["due_on"] == "2026-07-02"
            (termination,) = await event(p, project, "termination_recommended")
            assert termination["articles"] == ["bayingolin §21"]
            # Once only: a second scan fires nothing more.
            rescan = await http.post("/projects/deadline-scan", headers=AUTHORITY)
            assert rescan.json() == {"missed": 0}
            detail = await known(p, project)
            assert detail is not None
            states = {d["deadline"]: d["state"] for d in detail["deadlines"]}
            assert states == {"implementation_plan": "met", "start": "met", "contract": "missed"}
            assert termination["deadline"] == "contract"
            # 期限一览: the authority's overdue queue has it, with the article; nobody else's does.
            ours = bearer(Role.AUTHORITY, jurisdictions=["bayingolin"])
            overdue = (await http.get("/deadlines", headers=ours)).json()
            mine = [d for d in overdue["items"] if d["project_id"] == project["id"]]
            assert [(d["deadline"], d["state_label"], d["articles"]) for d in mine] == [
                ("contract", "已逾期", ["bayingolin §21"])
            ]
            assert mine[0]["agency"] == project["agency"] and mine[0]["due_on"] == "2026-07-02"
            theirs = bearer(Role.AUTHORITY, jurisdictions=["lhasa"])
            assert project["id"] not in (await http.get("/deadlines", headers=theirs)).text
            refused = await http.get("/deadlines", headers=theirs, params={"jurisdiction": "bayingolin"})
            assert refused.status_code == 403
            other_agency = bearer(Role.APPLICANT, "另一单位", jurisdictions=["bayingolin"])
            assert project["id"] not in (await http.get("/deadlines", headers=other_agency)).text
            own = await http.get("/deadlines", headers=agency_of(project), params={"state": "met"})
            assert {d["deadline"] for d in own.json()["items"]} == {"implementation_plan", "start"}

            # 原则上终止: the authority extends the contract deadline instead (intake's decision).
            await publish(
                bus,
                TerminationDecided(
                    project_id=project["id"],
                    jurisdiction="bayingolin",
                    decision="extend",
                    deadline="contract",
                    until=date(2026, 8, 31),
                    reason="招标流标后重新采购",
                    document_ref="巴数字〔2026〕5号",
                    articles=("bayingolin §21",),
                ),
                "/govit/intake",
            )

            async def extended() -> bool:
                found = await known(p, project)
                return found is not None and any(
                    d["deadline"] == "contract" and d["due_on"] == "2026-08-31" and d["state"] == "running"
                    for d in found["deadlines"]
                )

            await eventually(extended, what="the contract deadline extended to 2026-08-31")
            after = await http.get("/deadlines", headers=ours, params={"agency": project["agency"]})
            assert after.json()["total"] == 0  # extended: no longer overdue
            clock.now = datetime(2026, 9, 14, 2, 0, tzinfo=UTC)
            assert (await http.post("/projects/deadline-scan", headers=AUTHORITY)).json() == {"missed": 1}
            again = await event(p, project, "termination_recommended", at_least=2)
            assert len(again) == 2 and again[-1]["deadline"] == "contract"  # missed anew

            # The authority terminates; procurement closes the project.
            await publish(
                bus,
                ProjectTerminated(
                    project_id=project["id"],
                    jurisdiction="bayingolin",
                    reason="未按期签订合同",
                    articles=("bayingolin §21",),
                ),
                "/govit/intake",
            )
            await eventually(lambda: known(p, project, status="closed"), what="the project to close")
            closed = await file(p, project)
            assert closed.status_code == 409 and closed.json()["code"] == "invalid_state"


async def test_bayingolin_a_contract_signed_by_the_deadline_may_still_be_filed_before_termination(
    procurement: Procurement,
) -> None:
    # Plan issued 3/02: contracts are due 7/02 (bayingolin §21); one signed that day may be filed
    # within 7 working days (§18), up to 7/13. Until then no termination is recommended.
    p = procurement
    signed, unsigned = await approved(p, "bayingolin"), await approved(p, "bayingolin")
    p.clock.now = datetime(2026, 7, 6, 2, 0, tzinfo=UTC)
    assert (await p.http.post("/projects/deadline-scan", headers=AUTHORITY)).status_code == 200
    for project in (signed, unsigned):
        detail = await known(p, project)
        assert detail is not None
        assert {d["deadline"]: d["state"] for d in detail["deadlines"]}["contract"] == "running"

    p.clock.now = datetime(2026, 7, 9, 2, 0, tzinfo=UTC)
    filed = await file(p, signed, signed_on=date(2026, 7, 2))
    assert filed.status_code == 201 and not filed.json()["late"], filed.text

    p.clock.now = datetime(2026, 7, 14, 2, 0, tzinfo=UTC)
    assert (await p.http.post("/projects/deadline-scan", headers=AUTHORITY)).status_code == 200
    (termination,) = await event(p, unsigned, "termination_recommended")
    assert termination["articles"] == ["bayingolin §21"] and "2026-07-13" in termination["reason"]
    detail = await known(p, signed)
    assert detail is not None
    assert {d["deadline"]: d["state"] for d in detail["deadlines"]}["contract"] == "met"
    assert "govit.procurement.termination_recommended.v1" not in await types(p, signed)


async def test_bayingolin_quarterly_progress_reports_and_zhonglou_start_deadline(
    procurement: Procurement,
) -> None:
    p = procurement
    project = await approved(p, "bayingolin", 80 * WAN)
    assert (await file(p, project, signed_on=date(2026, 3, 2))).status_code == 201
    q1 = await p.http.post(
        f"/projects/{project['id']}/reports",
        headers=agency_of(project),
        json={"kind": "progress", "period": "2026Q1", "summary": "完成需求调研"},
    )
    assert q1.status_code == 200, q1.text
    wrong = await p.http.post(
        f"/projects/{project['id']}/reports",
        headers=agency_of(project),
        json={"kind": "progress", "period": "2026", "summary": "全年"},
    )
    assert wrong.status_code == 422 and "bayingolin §20" in wrong.json()["detail"]

    zhonglou = await approved(p, "zhonglou", 20 * WAN)  # review passed on 2026-03-02
    p.clock.now = datetime(2026, 7, 2, 2, 0, tzinfo=UTC)
    scan = await p.http.post("/projects/deadline-scan", headers=AUTHORITY)
    assert scan.status_code == 200 and scan.json()["missed"] >= 2
    (quarter,) = [
        m for m in await event(p, project, "deadline_missed", at_least=2) if m["deadline"] == "progress"
    ]
    assert quarter["period"] == "2026Q2" and quarter["due_on"] == "2026-06-30"
    assert quarter["articles"] == ["bayingolin §20"] and not quarter["terminate"]
    (start,) = await event(p, zhonglou, "deadline_missed")
    assert (
        start["deadline"] == "start"
        and start["terminate"]
        and start["articles"] == ["zhonglou §17", "zhonglou §13"]
    )
    assert start["due_on"] == "2026-06-02"
    await event(p, zhonglou, "termination_recommended")
    assert "govit.procurement.termination_recommended.v1" not in await types(p, project)


# -- changes --------------------------------------------------------------------------------------------


async def change(p: Procurement, project: dict[str, Any], **body: Any) -> Response:
    payload = {
        "description": "调整建设内容",
        "scope_effect": "增加数据接口",
        "total_delta_fen": 0,
        "adjustment_fen": 0,
        **body,
    }
    return await p.http.post(f"/projects/{project['id']}/changes", headers=agency_of(project), json=payload)


async def test_shexian_files_a_small_adjustment_and_sends_a_larger_one_to_review_and_approval(
    procurement: Procurement,
) -> None:
    p = procurement
    project = await approved(p, "shexian", 100 * WAN)
    small = await change(p, project, adjustment_fen=15 * WAN, ground="optimisation")
    assert small.status_code == 201 and small.json()["status"] == "filed" and small.json()["path"] == "file"
    assert small.json()["articles"] == ["shexian §38"]
    large = await change(p, project, adjustment_fen=16 * WAN, ground="optimisation")
    assert large.status_code == 201, large.text
    body = large.json()
    assert (body["status"], body["path"], body["review"]) == ("pending", "approval", "requested")
    assert "15" in body["reasons"][0]["message"] and body["reasons"][0]["articles"] == ["shexian §38"]
    (requested,) = await event(p, project, "change_review_requested")
    assert requested["change_id"] == body["id"]

    early = await p.http.post(f"/changes/{body['id']}/decision", headers=AUTHORITY, json={"approve": True})
    assert early.status_code == 409, early.text
    await publish(
        p.bus,
        ReviewConcluded(
            project_id=project["id"], jurisdiction="shexian", case_id="c1", stage="change", verdict="pass"
        ),
    )

    async def reviewed() -> bool:
        got = await p.http.get(f"/changes/{body['id']}", headers=AUTHORITY)
        return bool(got.json()["review"] == "pass")

    await eventually(reviewed, what="the change review's pass")
    decided = await p.http.post(f"/changes/{body['id']}/decision", headers=AUTHORITY, json={"approve": True})
    assert decided.status_code == 200 and decided.json()["status"] == "approved", decided.text
    recorded = await event(p, project, "change_recorded", at_least=3)
    assert [r["status"] for r in recorded] == ["filed", "pending", "approved"]
    other = bearer(Role.APPLICANT, "另一个单位")
    assert (await p.http.get(f"/changes/{body['id']}", headers=other)).status_code == 404
    assert (await p.http.get(f"/projects/{project['id']}", headers=other)).status_code == 404


async def test_lhasa_adds_up_adjustments_zhonglou_reapproves_ten_percent_bayingolin_needs_finance(
    procurement: Procurement,
) -> None:
    p = procurement
    lhasa = await approved(p, "lhasa", 100 * WAN)
    first = await change(p, lhasa, adjustment_fen=10 * WAN, ground="business")
    assert first.json()["status"] == "filed", first.text
    second = await change(p, lhasa, adjustment_fen=6 * WAN, ground="business")
    assert second.json()["path"] == "approval" and "累加" in second.json()["reasons"][0]["message"]
    assert second.json()["review"] is None  # lhasa §16: approved without an expert review
    await event(p, lhasa, "change_recorded", at_least=2)  # what was written with it is out too
    assert "govit.procurement.change_review_requested.v1" not in dict(await events_of(p.bus, lhasa["id"]))

    zhonglou = await approved(p, "zhonglou", 100 * WAN)
    over = await change(p, zhonglou, total_delta_fen=10 * WAN)
    assert over.json()["path"] == "reapproval" and over.json()["articles"] == ["zhonglou §14"], over.text
    await publish(
        p.bus,
        ReviewConcluded(
            project_id=zhonglou["id"], jurisdiction="zhonglou", case_id="c2", stage="change", verdict="pass"
        ),
    )

    async def reviewed(change_id: str) -> bool:
        got = await p.http.get(f"/changes/{change_id}", headers=AUTHORITY)
        return bool(got.json()["review"] == "pass")

    await eventually(lambda: reviewed(over.json()["id"]), what="review")
    no_number = await p.http.post(
        f"/changes/{over.json()['id']}/decision", headers=AUTHORITY, json={"approve": True}
    )
    assert no_number.status_code == 422
    reapproved = await p.http.post(
        f"/changes/{over.json()['id']}/decision",
        headers=AUTHORITY,
        json={"approve": True, "approval_number": "钟大数〔2026〕9号"},
    )
    assert reapproved.json()["status"] == "approved", reapproved.text
    assert (await known(p, zhonglou))["approved_fen"] == 110 * WAN  # type: ignore[index]

    bayingolin = await approved(p, "bayingolin", 100 * WAN)
    both = await change(p, bayingolin, adjustment_fen=WAN, ground="business")
    assert both.json()["approvers"] == ["authority", "finance"], both.text
    assert both.json()["review"] is None  # the two bureaus decide; no expert review (bayingolin §22)
    by_authority = await p.http.post(
        f"/changes/{both.json()['id']}/decision", headers=AUTHORITY, json={"approve": True}
    )
    assert by_authority.json()["status"] == "pending"
    by_finance = await p.http.post(
        f"/changes/{both.json()['id']}/decision", headers=FINANCE, json={"approve": True}
    )
    assert by_finance.json()["status"] == "approved", by_finance.text


async def test_pending_changes_count_and_a_review_lands_on_the_change_it_reviewed(
    procurement: Procurement,
) -> None:
    p = procurement
    shexian = await approved(p, "shexian", 100 * WAN)
    first = (await change(p, shexian, adjustment_fen=16 * WAN, ground="policy")).json()
    second = (await change(p, shexian, adjustment_fen=20 * WAN, ground="policy")).json()
    assert first["review"] == second["review"] == "requested"
    await publish(
        p.bus,
        ReviewConcluded(
            project_id=shexian["id"],
            jurisdiction="shexian",
            case_id="c9",
            stage="change",
            verdict="fail",
            reference=second["id"],
        ),
    )

    async def reviewed() -> bool:
        got = await p.http.get(f"/changes/{second['id']}", headers=AUTHORITY)
        return bool(got.json()["review"] == "fail")

    await eventually(reviewed, what="the second change's review")
    assert (await p.http.get(f"/changes/{first['id']}", headers=AUTHORITY)).json()["review"] == "requested"
    refused = await p.http.post(
        f"/changes/{second['id']}/decision", headers=AUTHORITY, json={"approve": True}
    )
    assert refused.status_code == 409

    # zhonglou §14: two pending overruns of 6% together reach 10%, so the second is re-approval.
    zhonglou = await approved(p, "zhonglou", 100 * WAN)
    assert (await change(p, zhonglou, total_delta_fen=6 * WAN)).json()["path"] == "approval"
    assert (await change(p, zhonglou, total_delta_fen=6 * WAN)).json()["path"] == "reapproval"
    minor = await change(p, zhonglou, total_delta_fen=-2 * WAN)
    assert minor.json()["path"] == "file" and minor.json()["status"] == "filed"  # neither major nor over
    major = await change(p, zhonglou, total_delta_fen=-2 * WAN, major=True)
    assert major.json()["path"] == "approval"


async def test_dates_to_come_are_refused(procurement: Procurement) -> None:
    p = procurement
    project = await approved(p, "bayingolin", 80 * WAN)
    ahead = await p.http.post(
        f"/projects/{project['id']}/reports",
        headers=agency_of(project),
        json={"kind": "progress", "period": "2026Q3", "summary": "预先报送"},
    )
    assert ahead.status_code == 422, ahead.text
    assert (await file(p, project)).status_code == 201
    started = await p.http.post(
        f"/projects/{project['id']}/construction/start",
        headers=agency_of(project),
        json={"started_on": "2026-03-05"},
    )
    assert started.status_code == 422, started.text


async def test_another_jurisdictions_people_neither_file_nor_decide_nor_see_its_contracts_and_changes(
    procurement: Procurement,
) -> None:
    http = procurement.http
    mine = await approved(procurement, "zhonglou")
    theirs = await approved(procurement, "lhasa")
    # The agency's own token, but naming lhasa: zhonglou's project is not found, as a missing one.
    elsewhere = bearer(Role.APPLICANT, mine["agency"], jurisdictions=["lhasa"])
    missing = await http.post("/projects/no-such/contracts", headers=elsewhere, json=contract_body())
    refused = await http.post(f"/projects/{mine['id']}/contracts", headers=elsewhere, json=contract_body())
    assert refused.status_code == 404 and refused.json()["code"] == missing.json()["code"], refused.text
    home = bearer(Role.APPLICANT, mine["agency"], jurisdictions=["zhonglou"])
    filed = await http.post(f"/projects/{mine['id']}/contracts", headers=home, json=contract_body())
    assert filed.status_code == 201, filed.text

    # zhonglou §14: the change goes to approval; lhasa's authority and finance cannot decide it.
    change = (
        await http.post(
            f"/projects/{mine['id']}/changes",
            headers=home,
            json={
                "description": "增加模块",
                "scope_effect": "扩大",
                "total_delta_fen": 0,
                "adjustment_fen": WAN,
            },
        )
    ).json()
    for role in (Role.AUTHORITY, Role.FINANCE):
        lhasa = bearer(role, jurisdictions=["lhasa"])
        decided = await http.post(f"/changes/{change['id']}/decision", headers=lhasa, json={"approve": True})
        assert decided.status_code == 404 and decided.json()["code"] == "change_not_found", decided.text
        assert (await http.get(f"/changes/{change['id']}", headers=lhasa)).status_code == 404
        assert (await http.get(f"/projects/{mine['id']}", headers=lhasa)).status_code == 404
    blacklisting = await http.put(
        f"/firms/zhonglou/{CONTRACTOR[1]}",
        headers=bearer(Role.AUTHORITY, jurisdictions=["lhasa"]),
        json={"name": CONTRACTOR[0], "blacklisted": True, "reason": "失信"},
    )
    assert blacklisting.status_code == 403 and blacklisting.json()["code"] == "forbidden_jurisdiction"

    # Lists show each jurisdiction its own.
    lhasa = bearer(Role.AUDITOR, jurisdictions=["lhasa"])
    for path in ("/projects", "/changes", f"/projects/{mine['id']}/contracts"):
        page = (await http.get(path, params={"limit": 200}, headers=lhasa)).json()
        assert {i["jurisdiction"] for i in page["items"]} <= {"lhasa"}, path
        assert mine["id"] not in str(page)
    ids = {
        p["id"] for p in (await http.get("/projects", params={"limit": 200}, headers=lhasa)).json()["items"]
    }
    assert theirs["id"] in ids
    assert (await http.get("/changes", params={"jurisdiction": "zhonglou"}, headers=lhasa)).status_code == 403


async def test_an_event_that_can_never_fit_its_project_is_dead_lettered_at_once_one_not_yet_known_is_retried(
    make_database: Any,
) -> None:
    """A project's approval from another jurisdiction than the project's can never apply: it is
    dead-lettered on its first delivery with the reason. An approval of a project whose
    declaration has not arrived yet may apply later: it is retried."""
    engine = create_engine(await make_database("procurement"))
    await migrate(engine, Path(SPEC.migrations))
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    dispatch = EventDispatcher(
        durable="procurement",
        subscriptions=SUBSCRIPTIONS,
        uow_factory=lambda: ProcurementUnitOfWork(
            sessions, source="/govit/procurement", subject_prefix="govit"
        ),
        context=HandlerContext(policy=load_registry(), calendar=WorkingCalendar()),
        max_deliver=6,
        metrics=Metrics("test"),
        prefix="govit",
    )

    def delivery(event: Event) -> Delivery:
        return Delivery(subject_for("govit", event), encode(event, source="/govit/intake"), {}, 1, 1)

    try:
        declared = ProjectDeclared(
            project_id="p1",
            jurisdiction="xunyang",
            agency="区教育局",
            title="智慧校园",
            kind="service",
            amount_fen=WAN,
        )
        assert isinstance(await dispatch(delivery(declared)), Ack)
        foreign = ProjectApproved(
            project_id="p1", jurisdiction="zhonglou", approved_amount_fen=WAN, plan_year=2026
        )
        verdict = await dispatch(delivery(foreign))
        assert isinstance(verdict, DeadLetter)
        assert verdict.reason.startswith("Unprocessable: EventMismatch: 项目 p1 属于 xunyang")
        unknown = ProjectApproved(
            project_id="p2", jurisdiction="xunyang", approved_amount_fen=WAN, plan_year=2026
        )
        assert isinstance(await dispatch(delivery(unknown)), Retry)
    finally:
        await engine.dispose()
