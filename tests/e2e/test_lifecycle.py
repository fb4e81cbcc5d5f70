"""Whole lifecycles through the five running services, one per jurisdiction, and the stories
the regulations tell: from declaration to O&M funds, driven only through HTTP and events."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, timedelta

import pytest

from tests.conftest import eventually
from tests.e2e.conftest import Suite
from tests.e2e.lifecycle import (
    WAN,
    accept,
    approve,
    at,
    authority,
    body,
    build,
    declared,
    event_data,
    events,
    expert_pool,
    finance,
    om,
    pay,
    plan,
    released,
    state,
    unit,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.services("intake", "review", "procurement", "acceptance", "funding"),
]

DECLARED_ON = date(2026, 6, 15)  # before zhonglou's and xunyang's Sep 30, lhasa's Aug 31


async def test_zhonglou_final_payment_waits_for_the_acceptance_report_and_a_12_percent_overrun_is_reapproval(
    suite: Suite,
) -> None:
    s = suite
    s.set_time(at(DECLARED_ON))
    await expert_pool(s, "zhonglou")
    project = await declared(s, "zhonglou", 200 * WAN)
    await approve(s, project)
    pid = project["id"]
    paid: dict[str, object] = {}

    async def while_building(construction: dict[str, object]) -> None:
        # zhonglou §18: the final payment waits for the acceptance report.
        async def held_final() -> object:
            response = await pay(s, project, 40 * WAN, "final")  # refused until the contract reaches funding
            return response if response.status_code == 202 else None

        final = await eventually(held_final, what="a final payment held")
        assert [g["articles"] for g in final.json()["closed_gates"]] == [["zhonglou §18", "zhonglou §19"]]
        paid["final"] = final.json()["id"]
        milestones = construction["milestones"]
        assert isinstance(milestones, list)
        advance = await pay(
            s,
            project,
            milestones[0]["amount_fen"],
            "milestone",
            contract_id=construction["id"],
            milestone="预付款",
        )
        assert advance.status_code == 201, advance.text
        # zhonglou §14: +12% over the approved total goes back to approval (重新立项).
        change = body(
            await s.procurement.post(
                f"/projects/{pid}/changes",
                headers=unit(project),
                json={
                    "description": "增加接口",
                    "scope_effect": "新增两个部门对接",
                    "total_delta_fen": 24 * WAN,
                    "adjustment_fen": 0,
                },
            ),
            201,
        )
        assert (change["path"], change["status"], change["articles"]) == (
            "reapproval",
            "pending",
            ["zhonglou §14"],
        )

    await build(s, project, date(2026, 7, 1), date(2026, 9, 1), while_building)
    accepted_on = await accept(s, project, date(2026, 9, 1))
    item = await released(s, project, str(paid["final"]))
    assert item["closed_gates"] == []

    async def releases() -> list[dict[str, object]]:
        found = await event_data(s, project, "govit.funding.disbursement_released.v1")
        return [d for d in found if d["disbursement_id"] == paid["final"]]

    await eventually(releases, what="the release event")
    await asyncio.sleep(0.5)
    assert len(await releases()) == 1  # released by itself, once
    found = body(await s.funding.get(f"/projects/{pid}/gates", headers=finance("zhonglou")))
    gates = {g["gate"]: g for g in found}
    assert gates["acceptance"]["event"]["type"] == "govit.acceptance.final_acceptance_concluded.v1"

    s.set_time(at(accepted_on + timedelta(days=30)))
    granted = await om(s, project, accepted_on.year + 1)
    assert granted.status_code == 201, granted.text
    expected = {
        "govit.intake.project_approved.v1",
        "govit.review.case_concluded.v1",
        "govit.procurement.contract_filed.v1",
        "govit.procurement.construction_completed.v1",
        "govit.procurement.change_review_requested.v1",
        "govit.acceptance.final_acceptance_concluded.v1",
        "govit.funding.om_decided.v1",
    }

    async def all_there() -> bool:
        return expected <= set(await events(s, project))

    await eventually(all_there, what=f"every service's events: {sorted(expected)}")

    # `govit timeline` tells the same story, in order, across the services.
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "govit.cli",
        "timeline",
        pid,
        env=s.env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, err.decode()
    told = out.decode()
    lines = told.splitlines()
    order = [
        next(i for i, line in enumerate(lines) if f"[{kind}]" in line)
        for kind in (
            "govit.intake.project_declared.v1",
            "govit.intake.project_approved.v1",
            "govit.procurement.construction_completed.v1",
            "govit.acceptance.final_acceptance_concluded.v1",
            "govit.funding.om_decided.v1",
        )
    ]
    assert order == sorted(order), told
    assert "项目已申报" in lines[order[0]] and "zhonglou §18" in lines[order[3]]


async def test_shexian_files_an_8_percent_adjustment_and_unconfirmed_sharing_blocks_acceptance_and_om(
    suite: Suite,
) -> None:
    s = suite
    s.set_time(at(DECLARED_ON))
    await expert_pool(s, "shexian")
    shared, unshared = await declared(s, "shexian", 300 * WAN), await declared(s, "shexian", 300 * WAN)
    await plan(s, shared, unshared)
    for project in (shared, unshared):
        await approve(s, project, planned=True)

    async def adjust(_: dict[str, object]) -> None:
        # shexian §38: moving 8% of the total within it, on a listed ground, is only filed.
        filed = body(
            await s.procurement.post(
                f"/projects/{shared['id']}/changes",
                headers=unit(shared),
                json={
                    "description": "优化技术方案",
                    "scope_effect": "调整模块",
                    "total_delta_fen": 0,
                    "adjustment_fen": 24 * WAN,
                    "ground": "optimisation",
                },
            ),
            201,
        )
        assert (filed["path"], filed["status"], filed["articles"]) == ("file", "filed", ["shexian §38"])

    await build(s, shared, date(2026, 7, 1), date(2026, 8, 3), adjust)
    await build(s, unshared, date(2026, 7, 1), date(2026, 8, 3))

    # shexian §39, §44(一): without the authority's confirmation, no acceptance and no O&M funds.
    day = await accept(s, unshared, date(2026, 8, 3), confirm_sharing=False)
    refusal = await s.acceptance.post(
        f"/projects/{unshared['id']}/final-acceptance/application",
        headers=unit(unshared),
        json={"materials": {"archives_acceptance": "档验〔2027〕2号"}},
    )
    assert "data_sharing_unconfirmed" in [r["code"] for r in refusal.json()["reasons"]]
    denied = await om(s, unshared, day.year + 1)
    assert denied.status_code == 409 and denied.json()["code"] == "om_denied", denied.text
    assert ["shexian §39", "shexian §44(一)"] in [r["articles"] for r in denied.json()["reasons"]]

    accepted_on = await accept(s, shared, date(2026, 8, 3))
    for attestation in ("mlps", "crypto"):
        body(
            await s.acceptance.post(
                f"/projects/{shared['id']}/attestations",
                headers=unit(shared),
                json={
                    "attestation": attestation,
                    "compliant": True,
                    "reference": f"{attestation}-2026",
                    "issued_on": accepted_on.isoformat(),
                },
            )
        )

    async def granted() -> bool:
        return (await om(s, shared, accepted_on.year + 1)).status_code == 201

    await eventually(granted, what="O&M funds once the attestations reach funding")


async def test_xunyang_holds_money_without_the_audit_report(suite: Suite) -> None:
    s = suite
    s.set_time(at(DECLARED_ON))
    project = await declared(s, "xunyang", 150 * WAN)
    await approve(s, project)
    await build(s, project, date(2026, 7, 1), date(2026, 8, 3))
    held = await pay(s, project, 20 * WAN)
    assert held.status_code == 202
    assert {g["code"] for g in held.json()["closed_gates"]} == {
        "gate_closed:acceptance",
        "gate_closed:audit_report",
    }
    accepted_on = await accept(s, project, date(2026, 8, 3))
    await state(s, "xunyang", "funding", f"/disbursements/{held.json()['id']}", status="held")
    still = body(await s.funding.get(f"/disbursements/{held.json()['id']}", headers=finance("xunyang")))
    assert [g["articles"] for g in still["closed_gates"]] == [["xunyang §20"]]
    body(
        await s.acceptance.post(
            f"/projects/{project['id']}/audit-report",
            headers=unit(project),
            json={"reference": "浔审〔2026〕9号", "issued_on": accepted_on.isoformat()},
        )
    )
    await released(s, project, held.json()["id"])
    assert (await om(s, project, accepted_on.year + 1)).status_code == 201


async def test_bayingolin_no_contract_four_months_after_the_plan_ends_in_termination_and_reclaim(
    suite: Suite,
) -> None:
    s = suite
    s.set_time(at(date(2026, 3, 2)))
    await expert_pool(s, "bayingolin")
    project = await declared(s, "bayingolin", 120 * WAN)
    kept = await declared(s, "bayingolin", 120 * WAN)
    await plan(s, project, kept)
    for each in (project, kept):
        await approve(s, each, planned=True)
    paid = await pay(s, project, 30 * WAN)
    assert paid.status_code == 201, paid.text

    # The other project contracts in time and goes all the way (trial run, panel, acceptance).
    await build(s, kept, date(2026, 4, 1), date(2026, 6, 1))
    accepted_on = await accept(s, kept, date(2026, 6, 1))

    # bayingolin §21: no contract four months after the plan — 原则上终止: the deadline recommends,
    # nothing is reclaimed until the authority decides to terminate; then the money comes back.
    s.set_time(at(date(2026, 7, 20)))
    body(await s.procurement.post("/projects/deadline-scan", headers=authority("bayingolin")))

    async def pending() -> bool:
        listed = await s.intake.get("/projects?termination=pending", headers=authority("bayingolin"))
        return project["id"] in [p["id"] for p in listed.json()["items"]]

    await eventually(pending, what="the termination recommended to the authority")
    assert (await state(s, "bayingolin", "intake", f"/projects/{project['id']}"))["status"] == "approved"
    assert not (await state(s, "bayingolin", "funding", f"/projects/{project['id']}"))["terminated"]
    decided = await s.intake.post(
        f"/projects/{project['id']}/termination-decision",
        headers=authority("bayingolin"),
        json={"decision": "terminate", "document_ref": "巴数字〔2026〕7号"},
    )
    assert decided.status_code == 200, decided.text
    await state(s, "bayingolin", "intake", f"/projects/{project['id']}", status="terminated")
    await state(s, "bayingolin", "funding", f"/projects/{project['id']}", terminated=True)

    async def reclaim() -> list[dict[str, object]]:
        found = await event_data(s, project, "govit.funding.reclaim_recorded.v1")
        return [d for d in found if d["status"] == "started"]

    (started,) = await eventually(reclaim, what="the reclaim")
    assert started["amount_fen"] == 30 * WAN and started["articles"] == ["bayingolin §21"]
    missed = await event_data(s, project, "govit.procurement.deadline_missed.v1")
    assert "contract" in [m["deadline"] for m in missed]
    assert (await pay(s, project, WAN)).status_code == 409
    assert (await state(s, "bayingolin", "intake", f"/projects/{kept['id']}"))["status"] != "terminated"

    # O&M for next year is applied for in the third quarter (bayingolin §10).
    s.set_time(at(date(accepted_on.year + 1, 5, 10)))
    early = await om(s, kept, accepted_on.year + 2)
    assert early.status_code == 409 and ["bayingolin §10"] in [r["articles"] for r in early.json()["reasons"]]
    s.set_time(at(date(accepted_on.year + 1, 8, 3)))
    granted = await om(s, kept, accepted_on.year + 2)
    assert granted.status_code == 201, granted.text


async def test_lhasa_refuses_special_om_funds_within_three_years_of_acceptance(suite: Suite) -> None:
    s = suite
    s.set_time(at(DECLARED_ON))
    await expert_pool(s, "lhasa")
    project = await declared(s, "lhasa", 200 * WAN)
    await approve(s, project)
    await build(s, project, date(2026, 7, 1), date(2026, 8, 3))
    accepted_on = await accept(s, project, date(2026, 8, 3))
    ends = date(accepted_on.year + 4, 12, 31)
    denied = await om(s, project, accepted_on.year + 1, free_maintenance_ends_on=ends.isoformat())
    assert denied.status_code == 409, denied.text
    assert ["lhasa §20"] in [r["articles"] for r in denied.json()["reasons"]]

    # lhasa §22: the evaluation 12–24 months after acceptance; lhasa §27: it goes with the application.
    s.set_time(at(accepted_on + timedelta(days=400)))
    body(
        await s.acceptance.post(
            f"/projects/{project['id']}/evaluations",
            headers=authority("lhasa"),
            json={"evaluation": "post", "period": str(accepted_on.year + 1), "summary": "运行良好"},
        )
    )
    s.set_time(at(date(accepted_on.year + 3, 12, 1)))
    ends = date(accepted_on.year + 5, 12, 31)

    async def granted() -> bool:
        response = await om(s, project, accepted_on.year + 4, free_maintenance_ends_on=ends.isoformat())
        return response.status_code == 201

    await eventually(granted, what="O&M funds three years on, with the evaluation on record")
