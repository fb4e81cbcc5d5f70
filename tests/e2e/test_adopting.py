"""Adopting one or two services: funding and acceptance alone, fed by an agency's own systems.

Only funding and acceptance run (as `govit up funding acceptance` starts them). The agency's
project system and procurement platform publish the documented events under their own
CloudEvents sources, which the services trust because GOVIT_TRUSTED_SOURCES says so; an event
from any other source changes nothing and is dead-lettered with the reason. Where no system
publishes a fact, the authority records it by hand (POST /manual-events) with its document.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import pytest

from shared.auth import Role
from shared.contracts import Event
from shared.contracts.acceptance import FinalAcceptanceConcluded
from shared.contracts.intake import ProjectApproved, ProjectDeclared, ProjectIncludedInPlan
from shared.contracts.procurement import ConstructionCompleted, ContractFiled, Milestone
from tests.conftest import bearer, unique
from tests.e2e.conftest import Suite, running_suite
from tests.e2e.lifecycle import WAN, accept, at, authority, body, finance, state, unit, until
from tests.intake_flow import publish

pytestmark = pytest.mark.services("funding", "acceptance")

PROJECTS = "urn:gov:lhasa:project-system"  # the agency's own declaration and approval system
PLATFORM = "urn:gov:lhasa:procurement-platform"
TRUSTED = {
    "govit.intake.project_declared.v1": {PROJECTS: ["lhasa"]},
    "govit.intake.project_included_in_plan.v1": {PROJECTS: ["lhasa"]},
    "govit.intake.project_approved.v1": {PROJECTS: ["lhasa"]},
    "govit.procurement.contract_filed.v1": {PLATFORM: ["lhasa"]},
    "govit.procurement.construction_completed.v1": {PLATFORM: ["lhasa"]},
}

# What no system of this agency publishes, and the authority may therefore record by hand.
MANUAL = ["govit.procurement.contract_filed.v1", "govit.acceptance.final_acceptance_concluded.v1"]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def adopted(
    request: pytest.FixtureRequest,
    nats_url: str,
    postgres_admin_url: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Suite]:
    async with running_suite(
        str(request.param),
        nats_url,
        postgres_admin_url,
        tmp_path_factory,
        services=("funding", "acceptance"),
        extra_env={"GOVIT_TRUSTED_SOURCES": json.dumps(TRUSTED), "GOVIT_MANUAL_EVENTS": json.dumps(MANUAL)},
    ) as suite:
        yield suite


async def approved_elsewhere(s: Suite, jurisdiction: str = "lhasa") -> dict[str, Any]:
    """Declared, planned and approved in the agency's own project system."""
    project = {"id": unique("p"), "jurisdiction": jurisdiction, "agency": unique("拉萨市某局")}
    ids = {"project_id": project["id"], "jurisdiction": jurisdiction}
    await publish(
        s.bus,
        ProjectDeclared(
            **ids,
            agency=project["agency"],
            title="不动产登记信息平台",
            kind="construction",
            amount_fen=200 * WAN,
            plan_year=2027,
        ),
        PROJECTS,
    )
    await publish(
        s.bus, ProjectIncludedInPlan(**ids, plan_year=2027, rank=1, plan_document="拉计〔2027〕1号"), PROJECTS
    )
    await publish(
        s.bus,
        ProjectApproved(
            **ids, approved_amount_fen=200 * WAN, plan_year=2027, approval_number="拉批〔2027〕3号"
        ),
        PROJECTS,
    )
    await gate(s, project, "approval", opened=True)
    return project


def contract_filed(project: dict[str, Any], contract_id: str) -> ContractFiled:
    return ContractFiled(
        project_id=project["id"],
        jurisdiction=project["jurisdiction"],
        agency=project["agency"],
        contract_id=contract_id,
        role="construction",
        counterparty="西藏某信息技术有限公司",
        credit_code="91540000MA6T00000X",
        amount_fen=100 * WAN,
        signed_on=date(2027, 3, 1),
        filed_on=date(2027, 3, 2),
        milestones=(
            Milestone(name="预付款", stage="signing", share_percent="30", amount_fen=30 * WAN),
            Milestone(name="终验款", stage="final_acceptance", share_percent="70", amount_fen=70 * WAN),
        ),
    )


def concluded(project: dict[str, Any], on: date) -> FinalAcceptanceConcluded:
    return FinalAcceptanceConcluded(
        project_id=project["id"],
        jurisdiction=project["jurisdiction"],
        agency=project["agency"],
        passed=True,
        concluded_on=on,
    )


async def gates(s: Suite, project: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = body(await s.funding.get(f"/projects/{project['id']}/gates", headers=finance("lhasa")))
    return {g["gate"]: g for g in found}


async def gate(s: Suite, project: dict[str, Any], name: str, *, opened: bool) -> dict[str, Any]:
    async def reached() -> dict[str, Any] | None:
        response = await s.funding.get(f"/projects/{project['id']}/gates", headers=finance("lhasa"))
        if response.status_code != 200:
            return None
        found = {g["gate"]: g for g in response.json()}[name]
        return found if found["open"] is opened else None

    return dict(await until(reached, f"gate {name} {'open' if opened else 'closed'}"))


async def final_payment_held(s: Suite, project: dict[str, Any], contract_id: str) -> dict[str, Any]:
    """The applicant asks for the 终验款 as soon as funding has the contract: held on acceptance."""

    async def asked() -> dict[str, Any] | None:
        response = await s.funding.post(
            f"/projects/{project['id']}/disbursements",
            headers=unit(project),
            json={"amount_fen": 70 * WAN, "purpose": "终验款", "kind": "milestone"}
            | {"contract_id": contract_id, "milestone": "终验款"},
        )
        return response.json() if response.status_code == 202 else None

    held = dict(await until(asked, "the final payment held"))
    assert [g["code"] for g in held["closed_gates"]] == ["gate_closed:acceptance"], held
    return held


async def test_funding_and_acceptance_alone_take_a_project_to_its_final_payment(adopted: Suite) -> None:
    s = adopted
    s.set_time(at(date(2027, 3, 1)))
    project = await approved_elsewhere(s)
    pid = project["id"]

    # An acceptance conclusion from a system nobody configured: dead-lettered, nothing opens.
    forged_id = await publish(
        s.bus,
        concluded(project, date(2027, 3, 1)),
        "urn:unknown:system",
    )

    async def parked() -> Any:
        found = [
            m for m in await s.bus.dead_letters("funding", limit=1000) if f".{pid}." in m.original_subject
        ]
        return found or None

    (dead,) = await until(parked, "the forged event dead-lettered")
    assert "UntrustedSource" in dead.reason and "urn:unknown:system" in dead.reason, dead.reason

    contract_id = uuid.uuid4().hex
    await publish(s.bus, contract_filed(project, contract_id), PLATFORM)
    held = await final_payment_held(s, project, contract_id)
    completed = date(2027, 6, 30)
    s.set_time(at(completed))
    await publish(
        s.bus,
        ConstructionCompleted(
            project_id=pid,
            jurisdiction="lhasa",
            agency=project["agency"],
            completed_on=completed,
            contract_total_fen=100 * WAN,
            approved_total_fen=200 * WAN,
            contractors=("西藏某信息技术有限公司",),
        ),
        PLATFORM,
    )
    await state(s, "lhasa", "acceptance", f"/projects/{pid}", status="completed")
    report = await gates(s, project)
    assert report["acceptance"]["open"] is False
    assert report["acceptance"]["event"] is None or report["acceptance"]["event"]["id"] != forged_id

    await accept(s, project, completed)
    released = await state(s, "lhasa", "funding", f"/disbursements/{held['id']}", status="released")
    assert released["closed_gates"] == []

    report = await gates(s, project)
    assert report["approval"]["event"]["source"] == PROJECTS
    assert (
        PROJECTS in report["approval"]["explanation"]
        and "项目批复 — 已满足" in report["approval"]["explanation"]
    )
    assert report["completion"]["event"]["source"] == PLATFORM
    assert report["acceptance"]["event"]["source"] == "/govit/acceptance"


async def manual(s: Suite, event: Event, document_ref: str, key: str | None = None) -> Any:
    headers = authority("lhasa") | ({"Idempotency-Key": key} if key else {})
    payload = {
        "type": event.type,
        "data": event.model_dump(mode="json", exclude={"type"}),
        "document_ref": document_ref,
    }
    return await s.funding.post("/manual-events", headers=headers, json=payload)


async def test_the_authority_records_by_hand_what_no_system_publishes(adopted: Suite) -> None:
    s = adopted
    s.set_time(at(date(2027, 3, 1)))
    project = await approved_elsewhere(s)
    pid, contract_id = project["id"], uuid.uuid4().hex

    filed = contract_filed(project, contract_id)
    first = await manual(s, filed, "合同备案表（纸质）第 12 号", key="contract-12")
    assert first.status_code == 201, first.text
    assert first.json()["duplicate"] is False and first.json()["source"] == "urn:govit:funding:manual"
    again = await manual(s, filed, "合同备案表（纸质）第 12 号", key="contract-12")
    assert again.status_code == 200 and again.json()["duplicate"] is True
    assert again.json()["event_id"] == first.json()["event_id"]
    reused = await manual(s, filed, "另一份备案表", key="contract-12")
    assert reused.status_code == 409 and reused.json()["code"] == "idempotency_key_reused", reused.text

    held = await final_payment_held(s, project, contract_id)
    conclusion = concluded(project, date(2027, 9, 1))
    recorded = await manual(s, conclusion, "拉数验〔2027〕8号 验收意见")
    assert recorded.status_code == 201, recorded.text
    released = await state(s, "lhasa", "funding", f"/disbursements/{held['id']}", status="released")
    assert released["closed_gates"] == []
    acceptance = (await gates(s, project))["acceptance"]
    assert acceptance["open"] and acceptance["event"]["source"] == "urn:govit:funding:manual"
    assert "手工登记" in acceptance["explanation"] and "拉数验〔2027〕8号" in acceptance["explanation"]

    # Audited like any other change: the gate's entry names the authority who recorded it.
    auditor = bearer(Role.AUDITOR, sub="审计局", jurisdictions=["lhasa"])
    logged = body(await s.funding.get("/audit", params={"entity": "gates", "limit": 200}, headers=auditor))
    mine = [e for e in logged["items"] if e["key"] == [pid, "acceptance"]]
    assert mine and mine[-1]["actor"]["role"] == "authority", mine
    assert mine[-1]["after"]["event_source"] == "urn:govit:funding:manual"

    # Refusals: not the authority, an event funding does not handle, data that is not the schema.
    assert (
        await s.funding.post(
            "/manual-events",
            headers=unit(project),
            json={"type": conclusion.type, "data": {}, "document_ref": "某文件"},
        )
    ).status_code == 403
    other = await s.funding.post(
        "/manual-events",
        headers=authority("lhasa"),
        json={"type": "govit.review.panel_drawn.v1", "data": {}, "document_ref": "某文件"},
    )
    assert other.status_code == 422 and other.json()["code"] == "not_consumed", other.text
    approval = ProjectApproved(
        project_id=pid, jurisdiction="lhasa", approved_amount_fen=900 * WAN, plan_year=2027
    )
    forged = await manual(s, approval, "某文件")  # funding consumes it, but it is not on the list
    assert forged.status_code == 403 and forged.json()["code"] == "not_recordable_by_hand", forged.text
    assert (
        body(await s.funding.get(f"/projects/{pid}", headers=finance("lhasa")))["approved_amount_fen"]
        == 200 * WAN
    )
    broken = await s.funding.post(
        "/manual-events",
        headers=authority("lhasa"),
        json={
            "type": conclusion.type,
            "data": {"project_id": pid, "jurisdiction": "lhasa"},
            "document_ref": "某文件",
        },
    )
    assert broken.status_code == 422 and broken.json()["code"] == "invalid_event", broken.text
    assert {tuple(e["loc"][-1:]) for e in broken.json()["errors"]} >= {("passed",), ("concluded_on",)}
