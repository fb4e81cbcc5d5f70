"""监督整改 through the running services: the authority orders rectification with a deadline; only
once it is overdue (or found still not met) may it take the measures its article lists, and
funding and procurement hold what each measure names until it is lifted (shexian §49,
lhasa §18, zhonglou §21)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from tests.conftest import eventually
from tests.e2e.conftest import Suite
from tests.e2e.lifecycle import (
    WAN,
    approve,
    at,
    authority,
    body,
    contract,
    declared,
    event_data,
    expert_pool,
    pay,
    released,
    state,
    unit,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.services("intake", "review", "procurement", "acceptance", "funding"),
]


async def _order(s: Suite, project: dict[str, Any], due_on: date, document_ref: str) -> dict[str, Any]:
    j = project["jurisdiction"]
    body(
        await s.intake.post(
            f"/projects/{project['id']}/rectification-orders",
            headers=authority(j),
            json={
                "finding": "未按批复要求共享数据资源",
                "items": ["挂载数据资源目录"],
                "due_on": due_on.isoformat(),
                "document_ref": document_ref,
            },
        )
    )
    detail = await state(s, j, "intake", f"/projects/{project['id']}")
    (order,) = [o for o in detail["oversight"]["orders"] if o["document_ref"] == document_ref]
    return order


async def _measure(
    s: Suite, project: dict[str, Any], order: dict[str, Any], measure: str, **extra: Any
) -> Any:
    return await s.intake.post(
        f"/projects/{project['id']}/rectification-orders/{order['id']}/measures",
        headers=authority(project["jurisdiction"]),
        json={"measure": measure, "document_ref": f"歙数〔2026〕{measure}号", **extra},
    )


async def test_shexian_defers_funds_and_suspends_construction_only_after_the_deadline_until_lifted(
    suite: Suite,
) -> None:
    s = suite
    s.set_time(at(date(2026, 6, 15)))
    await expert_pool(s, "shexian")
    project = await declared(s, "shexian", 200 * WAN)
    await approve(s, project)
    pid = project["id"]
    order = await _order(s, project, date(2026, 6, 30), "歙数整改〔2026〕1号")
    assert order["state"] == "open"

    # 逾期不整改: before the deadline no measure may be taken (shexian §49).
    early = await _measure(s, project, order, "defer_funds")
    assert early.status_code == 409, early.text
    assert early.json()["code"] == "measure_premature"
    assert ["shexian §49"] in [r["articles"] for r in early.json()["reasons"]]
    # 停止发放运维经费 is zhonglou's measure, not shexian's.
    foreign = await _measure(s, project, order, "stop_om_funds")
    assert foreign.status_code == 422 and foreign.json()["reasons"][0]["code"] == "measure_not_provided"

    s.set_time(at(date(2026, 7, 6)))
    deferred = await _measure(s, project, order, "defer_funds", reason="逾期未整改")
    assert deferred.status_code == 200, deferred.text
    suspended = await _measure(s, project, order, "suspend_construction")
    assert suspended.status_code == 200, suspended.text
    (taken, *_) = await eventually(
        lambda: event_data(s, project, "govit.intake.oversight_measure_taken.v1"),
        what="the measure announced",
    )
    assert taken["measure"] == "defer_funds" and taken["articles"] == ["shexian §49"]

    # funding holds every new payment, citing the measure and the article; its gate report shows why.
    async def closed() -> bool:
        gates = await s.funding.get(f"/projects/{pid}/gates", headers=authority("shexian"))
        return gates.status_code == 200 and any(
            g["gate"] == "funds_deferred" and not g["open"] for g in gates.json()
        )

    await eventually(closed, what="funding's deferral gate closed")
    held_payment = body(await pay(s, project, 10 * WAN, "preparatory"), 202)
    (gate,) = [g for g in held_payment["closed_gates"] if g["code"] == "gate_closed:funds_deferred"]
    assert gate["articles"] == ["shexian §49"] and "暂缓安排资金" in gate["message"]
    assert "歙数〔2026〕defer_funds号" in gate["message"]

    # procurement records no start while construction is suspended.
    body(
        await s.procurement.post(
            f"/projects/{pid}/requirements", headers=unit(project), json={"summary": "需求"}
        )
    )
    body(
        await s.procurement.post(
            f"/projects/{pid}/requirements/review", headers=authority("shexian"), json={"approved": True}
        )
    )
    await contract(s, project, "construction", 150 * WAN, date(2026, 7, 6))
    await contract(s, project, "supervision", 5 * WAN, date(2026, 7, 6))

    async def refused_start() -> Any:
        started = await s.procurement.post(
            f"/projects/{pid}/construction/start", headers=unit(project), json={}
        )
        return (
            started
            if started.status_code == 409 and started.json()["code"] == "construction_suspended"
            else None
        )

    refusal = await eventually(refused_start, what="the start refused while suspended")
    assert "shexian §49" in refusal.json()["detail"]

    # Lifting the deferral releases the held payment; the suspension still holds construction.
    detail = await state(s, "shexian", "intake", f"/projects/{pid}")
    measures = {m["measure"]: m for m in detail["oversight"]["measures"]}
    lifted = await s.intake.post(
        f"/projects/{pid}/oversight-measures/{measures['defer_funds']['id']}/lift",
        headers=authority("shexian"),
        json={"document_ref": "歙数〔2026〕解除1号", "reason": "已整改到位"},
    )
    assert lifted.status_code == 200, lifted.text
    await released(s, project, held_payment["id"])
    still = await s.procurement.post(f"/projects/{pid}/construction/start", headers=unit(project), json={})
    assert still.status_code == 409
    body(
        await s.intake.post(
            f"/projects/{pid}/oversight-measures/{measures['suspend_construction']['id']}/lift",
            headers=authority("shexian"),
            json={"document_ref": "歙数〔2026〕解除2号"},
        )
    )

    async def started() -> Any:
        response = await s.procurement.post(
            f"/projects/{pid}/construction/start", headers=unit(project), json={}
        )
        return response if response.status_code == 200 else None

    await eventually(started, what="construction started once the suspension is lifted")


async def test_lhasa_measures_are_taken_with_the_finance_bureau_and_termination_ends_the_project(
    suite: Suite,
) -> None:
    s = suite
    s.set_time(at(date(2026, 6, 15)))
    await expert_pool(s, "lhasa")
    project = await declared(s, "lhasa", 200 * WAN)
    await approve(s, project)
    order = await _order(s, project, date(2026, 7, 15), "拉经信整改〔2026〕3号")

    # 整改后仍不符合要求 is a ground before the deadline too.
    body(
        await s.intake.post(
            f"/projects/{project['id']}/rectification-orders/{order['id']}/review",
            headers=authority("lhasa"),
            json={"compliant": False, "document_ref": "拉经信〔2026〕认定1号", "note": "仍未共享"},
        )
    )
    alone = await _measure(s, project, order, "terminate")
    assert alone.status_code == 422, alone.text
    assert alone.json()["reasons"][0]["code"] == "concurrence_required"
    assert alone.json()["reasons"][0]["articles"] == ["lhasa §18"]
    ended = await _measure(s, project, order, "terminate", concurrence_ref="拉财〔2026〕5号")
    assert ended.status_code == 200, ended.text
    assert ended.json()["status"] == "terminated"
    await state(s, "lhasa", "funding", f"/projects/{project['id']}", terminated=True)
    (terminated,) = await eventually(
        lambda: event_data(s, project, "govit.intake.project_terminated.v1"), what="the termination"
    )
    assert terminated["articles"] == ["lhasa §18"] and terminated["document_ref"] == "歙数〔2026〕terminate号"
