"""The thin slice: intake declares and approves; funding holds a request until approval opens its gate."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.funding.main import create_app as create_funding
from services.funding.settings import FundingSettings
from services.intake.main import create_app as create_intake
from services.intake.settings import IntakeSettings
from shared.auth import Role
from shared.bus import JetStreamBus
from tests.conftest import bearer, eventually, real_bus, running, unique
from tests.intake_flow import Clock, declare, register, take_to_approval

pytestmark = pytest.mark.usefixtures("drop_stream")


BUS: dict[str, JetStreamBus] = {}


@pytest.fixture
async def suite(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[tuple[AsyncClient, AsyncClient]]:
    common = {"nats_url": nats_url, "var_dir": tmp_path, "environment": "test", **isolation}
    clock = Clock()  # intake's; the review events the test publishes are dated by it
    intake = create_intake(IntakeSettings(database_url=await make_database("intake"), **common), clock=clock)
    funding = create_funding(FundingSettings(database_url=await make_database("funding"), **common))
    async with (
        real_bus(nats_url, isolation, clock) as bus,
        running(intake) as intake_client,
        running(funding) as funding_client,
    ):
        BUS["bus"] = bus
        yield intake_client, funding_client


async def test_funding_holds_a_request_until_intake_approves_the_project(
    suite: tuple[AsyncClient, AsyncClient], spans: InMemorySpanExporter
) -> None:
    intake, funding = suite
    agency = unique("区教育局")
    applicant = bearer(Role.APPLICANT, agency)

    # The agency declares; funding learns of the project from intake's event.
    project = await declare(intake, agency)
    project_id = project["id"]
    assert project["status"] == "declared"
    stored = (await intake.get(f"/projects/{project_id}", headers=applicant)).json()
    assert stored["declared_at"].endswith("Z"), "instants are read back in UTC on every database"
    await eventually(
        lambda: _status(funding, f"/projects/{project_id}", applicant, 200), what="funding record"
    )

    # Before approval the request is held, and the reason cites zhonglou §13.
    held = await funding.post(
        f"/projects/{project_id}/disbursements",
        headers=applicant,
        json={"amount_fen": 30_000_000, "purpose": "首期建设资金"},
    )
    assert held.status_code == 202, held.text
    assert held.json()["status"] == "held"
    approval, plan = held.json()["closed_gates"]
    assert approval["rule"] == "zhonglou §13"
    assert approval["code"] == "gate_closed:approval"
    assert "zhonglou §13" in approval["message"]
    assert (plan["code"], plan["articles"]) == ("gate_closed:plan", ["zhonglou §6", "zhonglou §9"])

    # Screened, planned, reviewed and approved; funding releases the held request by itself.
    approved = await take_to_approval(intake, BUS["bus"], project, 100_000_000)
    assert approved.status_code == 200, approved.text
    disbursement_id = held.json()["id"]

    async def released() -> bool:
        response = await funding.get(f"/disbursements/{disbursement_id}", headers=applicant)
        return bool(response.json()["status"] == "released")

    await eventually(released, what="release of the held disbursement")
    item = (await funding.get(f"/disbursements/{disbursement_id}", headers=applicant)).json()
    assert item["closed_gates"] == []
    assert item["released_at"] is not None

    # A request after approval is released at once.
    now = await funding.post(
        f"/projects/{project_id}/disbursements",
        headers=applicant,
        json={"amount_fen": 10_000_000, "purpose": "二期"},
    )
    assert now.status_code == 201 and now.json()["status"] == "released"

    # One trace follows the approval from intake's request into funding's consumer.
    def approval_traced() -> bool:
        finished = spans.get_finished_spans()
        request_traces = {
            s.context.trace_id for s in finished if s.name.startswith("POST /projects/{project_id}/approval")
        }
        consumed = {
            s.context.trace_id
            for s in finished
            if s.name == "process govit.intake.project_approved.v1"
            and s.attributes
            and s.attributes.get("govit.project_id") == project_id
        }
        return bool(request_traces & consumed)

    await eventually(approval_traced, what="one trace from intake to funding")


async def test_preparatory_costs_are_paid_before_approval_where_the_rule_exempts_them(
    suite: tuple[AsyncClient, AsyncClient],
) -> None:
    # zhonglou §13 excepts 项目论证等前期工作费用; shexian §15 has no such exception.
    intake, funding = suite
    results = {}
    for jurisdiction in ("zhonglou", "shexian"):
        agency = unique(f"{jurisdiction}数据局")
        applicant = bearer(Role.APPLICANT, agency)
        project = await declare(intake, agency, jurisdiction=jurisdiction)
        await eventually(lambda p=project, a=applicant: _status(funding, f"/projects/{p['id']}", a, 200))
        response = await funding.post(
            f"/projects/{project['id']}/disbursements",
            headers=applicant,
            json={"amount_fen": 500_000, "purpose": "方案论证", "kind": "preparatory"},
        )
        results[jurisdiction] = response.json()
    assert results["zhonglou"]["status"] == "released"
    assert results["shexian"]["status"] == "held"
    assert results["shexian"]["closed_gates"][0]["rule"] == "shexian §15"


async def test_an_agency_sees_only_its_own_projects(suite: tuple[AsyncClient, AsyncClient]) -> None:
    intake, funding = suite
    mine, theirs = unique("甲局"), unique("乙局")
    project = await declare(intake, mine)
    other = bearer(Role.APPLICANT, theirs)

    assert (await intake.get(f"/projects/{project['id']}", headers=other)).status_code == 404
    listed = (await intake.get("/projects", headers=other)).json()
    assert all(p["agency"] == theirs for p in listed["items"])
    own = (await intake.get("/projects", headers=bearer(Role.APPLICANT, mine))).json()
    assert [p["id"] for p in own["items"]] == [project["id"]]
    assert own["total"] == 1

    await eventually(lambda: _status(funding, f"/projects/{project['id']}", bearer(Role.FINANCE), 200))
    refused = await funding.post(
        f"/projects/{project['id']}/disbursements",
        headers=other,
        json={"amount_fen": 100, "purpose": "越权申请"},
    )
    assert refused.status_code == 404
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "project_not_found"


async def test_endpoints_refuse_without_a_token_or_with_the_wrong_role(
    suite: tuple[AsyncClient, AsyncClient],
) -> None:
    intake, _ = suite
    anonymous = await intake.get("/projects")
    assert anonymous.status_code == 401
    assert anonymous.json()["code"] == "unauthenticated"

    project = await declare(intake, unique("丙局"))
    as_applicant = await intake.post(
        f"/projects/{project['id']}/approval",
        headers=bearer(Role.APPLICANT, project["agency"]),
        json={"approved_amount_fen": 1, "plan_year": 2027},
    )
    assert as_applicant.status_code == 403
    assert as_applicant.json()["code"] == "forbidden_role"

    as_expert = await intake.get("/projects", headers=bearer(Role.EXPERT))
    assert as_expert.status_code == 403, "experts see only the cases assigned to them"

    forged = await intake.get("/projects", headers={"Authorization": "Bearer not-a-jwt"})
    assert forged.status_code == 401 and forged.json()["code"] == "invalid_token"


async def test_declaring_with_the_same_idempotency_key_creates_one_project(
    suite: tuple[AsyncClient, AsyncClient],
) -> None:
    intake, _ = suite
    agency = unique("丁局")
    await register(intake, "lhasa", agency)
    headers = {**bearer(Role.APPLICANT, agency), "Idempotency-Key": "decl-1"}
    body = {"jurisdiction": "lhasa", "title": "政务云迁移", "kind": "service", "amount_fen": 9_900}
    first = await intake.post("/projects", json=body, headers=headers)
    again = await intake.post("/projects", json=body, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json()["id"] == again.json()["id"]
    listed = (await intake.get("/projects", headers=bearer(Role.APPLICANT, agency))).json()
    assert listed["total"] == 1


async def test_concurrent_retries_with_one_key_create_one_project_and_a_changed_body_is_refused(
    suite: tuple[AsyncClient, AsyncClient],
) -> None:
    intake, _ = suite
    agency = unique("己局")
    await register(intake, "bayingolin", agency)
    headers = {**bearer(Role.APPLICANT, agency), "Idempotency-Key": "same-key"}
    body = {"jurisdiction": "bayingolin", "title": "数字乡村平台", "kind": "construction", "amount_fen": 700}
    responses = await asyncio.gather(
        *(intake.post("/projects", json=body, headers=headers) for _ in range(4))
    )
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert len({r.json()["id"] for r in responses}) == 1

    changed = await intake.post("/projects", json={**body, "amount_fen": 701}, headers=headers)
    assert changed.status_code == 422
    assert changed.json()["code"] == "idempotency_key_reused"


async def test_money_is_whole_fen_not_a_float(suite: tuple[AsyncClient, AsyncClient]) -> None:
    intake, _ = suite
    for amount in (100.0, "100", 100.5):
        response = await intake.post(
            "/projects",
            headers=bearer(Role.APPLICANT, "某局"),
            json={"jurisdiction": "zhonglou", "title": "x项目", "kind": "service", "amount_fen": amount},
        )
        assert response.status_code == 422, amount
        assert response.json()["code"] == "invalid_request"


async def test_unknown_jurisdiction_is_refused_as_problem_json(
    suite: tuple[AsyncClient, AsyncClient],
) -> None:
    intake, _ = suite
    response = await intake.post(
        "/projects",
        headers=bearer(Role.APPLICANT, "某局"),
        json={"jurisdiction": "atlantis", "title": "x项目", "kind": "service", "amount_fen": 1},
    )
    assert response.status_code == 422
    assert response.json()["code"] == "unknown_jurisdiction"
    assert "zhonglou" in response.json()["known"]


async def test_health_readiness_and_metrics_are_served(suite: tuple[AsyncClient, AsyncClient]) -> None:
    intake, funding = suite
    assert (await intake.get("/healthz")).json()["status"] == "ok"
    ready = (await funding.get("/readyz")).json()
    pid = ready.pop("pid")  # the answering process: a replica tells itself from another by it
    assert isinstance(pid, int) and pid > 1
    assert ready == {
        "ready": True,
        "service": "funding",
        "checks": {"database": True, "nats": True, "consumer": True},
    }
    await declare(intake, unique("戊局"))
    metrics = (await intake.get("/metrics")).text
    assert "govit_http_request_duration_seconds" in metrics
    await eventually(lambda: _metric_published(intake), what="published counter")


async def _metric_published(client: AsyncClient) -> bool:
    text = (await client.get("/metrics")).text
    return 'govit_events_published_total{type="govit.intake.project_declared.v1"}' in text


async def _status(client: AsyncClient, path: str, headers: dict[str, str], expected: int) -> bool:
    return (await client.get(path, headers=headers)).status_code == expected


async def test_a_project_shows_the_documents_its_jurisdiction_requires_with_articles(
    suite: tuple[AsyncClient, AsyncClient],
) -> None:
    intake, _ = suite
    agency = unique("州公安局")
    await register(intake, "bayingolin", agency)
    applicant = bearer(Role.APPLICANT, agency)
    response = await intake.post(
        "/projects",
        headers=applicant,
        json={
            "jurisdiction": "bayingolin",
            "title": "雪亮工程",
            "kind": "construction",
            "nature": "upgrade",
            "amount_fen": 900_000_000,
            "software_fen": 600_000_000,
        },
    )
    assert response.status_code == 201, response.text
    project = (await intake.get(f"/projects/{response.json()['id']}", headers=applicant)).json()
    assert project["nature"] == "upgrade"
    checklist = {m["material"]: m for m in project["required_materials"]}
    assert checklist["software_study"]["article"] == "bayingolin §12"
    assert checklist["software_study"]["label"] == "软课题研究报告"
    assert checklist["info_resource_catalog"]["stage"] == "declaration"

    too_much_software = await intake.post(
        "/projects",
        headers=applicant,
        json={
            "jurisdiction": "bayingolin",
            "title": "雪亮工程二期",
            "kind": "construction",
            "amount_fen": 100,
            "software_fen": 101,
        },
    )
    assert too_much_software.status_code == 422
    assert too_much_software.json()["code"] == "invalid_declaration"
