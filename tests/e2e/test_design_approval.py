"""shexian §20(一): a new project of 500万 and more is approved twice — its 可行性研究报告, then its
初步设计方案 — and the construction money waits for the second approval; preparatory costs do not."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.conftest import eventually
from tests.e2e.conftest import Suite
from tests.e2e.lifecycle import (
    WAN,
    at,
    authority,
    body,
    declared,
    event_data,
    expert_pool,
    panel,
    pay,
    plan,
    released,
    state,
)
from tests.intake_flow import upload, upload_all

pytestmark = [
    pytest.mark.slow,
    pytest.mark.services("intake", "review", "procurement", "acceptance", "funding"),
]


async def _approved_feasibility(s: Suite, project: dict[str, Any]) -> dict[str, Any]:
    pid = project["id"]
    await plan(s, project)
    await panel(s, project, "demonstration")
    await state(s, "shexian", "intake", f"/projects/{pid}", review_verdict="pass")
    await upload_all(s.intake, project, "approval")
    for signoff in ("city_review", "province_review"):
        body(
            await s.intake.post(
                f"/projects/{pid}/signoffs",
                headers=authority("shexian"),
                json={"signoff": signoff, "document_ref": f"{signoff}〔2026〕1号"},
            ),
            200,
            201,
        )
    return dict(
        body(
            await s.intake.post(
                f"/projects/{pid}/approval",
                headers=authority("shexian"),
                json={"approval_number": "歙数可研〔2026〕8号", "approved_amount_fen": project["amount_fen"]},
            )
        )
    )


async def test_shexian_construction_money_waits_for_the_preliminary_design_approval(suite: Suite) -> None:
    s = suite
    s.set_time(at(date(2026, 6, 15)))
    await expert_pool(s, "shexian")
    project = await declared(s, "shexian", 600 * WAN)
    pid = project["id"]
    checklist = (await s.intake.get(f"/projects/{pid}", headers=authority("shexian"))).json()
    stages = {m["material"]: m["stage"] for m in checklist["required_materials"]}
    assert stages["preliminary_design"] == "design_approval"
    approved = await _approved_feasibility(s, project)
    assert approved["status"] == "approved"
    (announced,) = await eventually(
        lambda: event_data(s, project, "govit.intake.project_approved.v1"), what="the approval"
    )
    assert announced["design_approval_required"] is True

    # Without the 初步设计方案 on file the second approval is refused.
    early = await s.intake.post(
        f"/projects/{pid}/design-approval",
        headers=authority("shexian"),
        json={"approval_number": "歙数初设〔2026〕3号"},
    )
    assert early.status_code == 422, early.text
    codes = [r["code"] for r in early.json()["reasons"]]
    assert codes == ["material_missing:preliminary_design", "review_not_passed"]  # shexian §20(一), §7

    await state(s, "shexian", "funding", f"/projects/{pid}", approved=True)
    prepared = await pay(s, project, 10 * WAN, "preparatory")
    assert prepared.status_code == 201, prepared.text
    held = body(await pay(s, project, 50 * WAN, "construction"), 202)
    (gate,) = [g for g in held["closed_gates"] if g["code"] == "gate_closed:design_approval"]
    assert gate["articles"] == ["shexian §18", "shexian §20"]

    assert (await upload(s.intake, project, "preliminary_design")).status_code == 201
    await panel(s, project, "preliminary_design")  # opened by the 可研 approval (shexian §21)
    await state(
        s, "shexian", "intake", f"/projects/{pid}", review_verdict="pass", review_stage="preliminary_design"
    )
    second = body(
        await s.intake.post(
            f"/projects/{pid}/design-approval",
            headers=authority("shexian"),
            json={"approval_number": "歙数初设〔2026〕3号", "approved_amount_fen": 580 * WAN},
        )
    )
    assert second["approved_amount_fen"] == 580 * WAN
    await released(s, project, held["id"])
    budget = await state(s, "shexian", "funding", f"/projects/{pid}", approved_amount_fen=580 * WAN)
    assert budget["approved"] is True
