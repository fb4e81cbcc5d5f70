"""Procurement's filing rules over HTTP and events: design kept apart from implementation at contract
filing (shexian §18), the authority's exception to the 原则上 监理制 (shexian §30), and purchases
outside the annual plan filed within a month (lhasa §10 第二款)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from httpx import Response

from shared.auth import Role
from tests.conftest import bearer, unique
from tests.service import test_procurement_service as base
from tests.service.test_procurement_service import (
    AUTHORITY,
    CONTRACTOR,
    SUPERVISOR,
    WAN,
    Procurement,
    agency_of,
    approved,
    cited,
    event,
    file,
)

procurement = base.procurement  # the fixture: the service on its own database, with a real JetStream
DESIGNER = ("某某规划设计咨询有限公司", "91341021MA2XXXXX1A")


def codes(response: Response) -> list[str]:
    return [reason["code"] for reason in response.json().get("reasons", [])]


async def requirements_reviewed(p: Procurement, project: dict[str, Any]) -> None:
    """shexian §29: the requirements reviewed before the tender, so construction may be contracted."""
    submitted = await p.http.post(
        f"/projects/{project['id']}/requirements", headers=agency_of(project), json={"summary": "需求"}
    )
    assert submitted.status_code == 200, submitted.text
    reviewed = await p.http.post(
        f"/projects/{project['id']}/requirements/review", headers=AUTHORITY, json={"approved": True}
    )
    assert reviewed.status_code == 200, reviewed.text


async def test_shexian_the_design_firm_may_not_implement_nor_the_implementer_design(
    procurement: Procurement,
) -> None:
    p = procurement
    project = await approved(p, "shexian")
    await requirements_reviewed(p, project)
    design = await file(p, project, role="design", firm=DESIGNER, amount_fen=8 * WAN)
    assert design.status_code == 201 and design.json()["role"] == "design", design.text
    # The same 统一社会信用代码, under another name: refused, citing shexian §18.
    same = await file(p, project, firm=("某某设计咨询联合体", DESIGNER[1]))
    assert same.status_code == 409, same.text
    assert same.headers["content-type"].startswith("application/problem+json")
    assert same.json()["code"] == "procurement_rule_violation"
    assert codes(same) == ["design_and_implementation_same_firm"] and cited(same) == ["shexian §18"]
    assert "设计与实施分开" in same.json()["reasons"][0]["message"]

    built = await file(p, project)
    assert built.status_code == 201, built.text
    redesign = await file(p, project, role="design", firm=CONTRACTOR, amount_fen=2 * WAN)
    assert redesign.status_code == 409 and cited(redesign) == ["shexian §18"], redesign.text
    # Funding hears of the design contract with its role; it is no construction fact of the project.
    filed = await event(p, project, "contract_filed", at_least=2)
    assert [e["role"] for e in filed] == ["design", "construction"]
    detail = (await p.http.get(f"/projects/{project['id']}", headers=AUTHORITY)).json()
    assert detail["contractors"] == [CONTRACTOR[0]] and detail["contract_total_fen"] == 180 * WAN


async def test_shexian_the_authority_records_an_exception_to_the_supervision_rule_lhasa_cannot(
    procurement: Procurement,
) -> None:
    p = procurement
    project = await approved(p, "shexian", 50 * WAN)
    start_url = f"/projects/{project['id']}/construction/start"
    refused = await p.http.post(start_url, headers=agency_of(project), json={})
    assert refused.status_code == 409 and codes(refused) == ["no_supervisor"], refused.text
    assert cited(refused) == ["shexian §30"] and refused.json()["reasons"][0]["in_principle"]

    body = {
        "code": "no_supervisor",
        "reason": "改造范围小，由单位信息中心自行管理",
        "document_ref": "歙数资〔2026〕12号",
    }
    url = f"/projects/{project['id']}/exceptions"
    assert (await p.http.post(url, headers=agency_of(project), json=body)).status_code == 403
    made = await p.http.post(url, headers=AUTHORITY, json=body)
    assert made.status_code == 200, made.text
    (recorded,) = made.json()["exceptions"]
    assert recorded["articles"] == ["shexian §30"] and recorded["document_ref"] == "歙数资〔2026〕12号"

    started = await p.http.post(start_url, headers=agency_of(project), json={})
    assert started.status_code == 200 and started.json()["status"] == "under_construction", started.text
    (started_event,) = await event(p, project, "construction_started")
    (exception,) = started_event["exceptions"]
    assert exception["code"] == "exception:no_supervisor" and exception["articles"] == ["shexian §30"]
    assert "歙数资〔2026〕12号" in exception["message"] and started_event["supervisor"] is None

    # lhasa §13: 未确定监理单位的信息化项目不得施工 — no 原则上, no exception.
    lhasa = await approved(p, "lhasa")
    refused = await p.http.post(f"/projects/{lhasa['id']}/exceptions", headers=AUTHORITY, json=body)
    assert refused.status_code == 422 and refused.json()["code"] == "exception_not_allowed", refused.text
    assert "lhasa §13" in refused.json()["detail"]
    # Nor once a supervisor is filed: there is nothing to depart from.
    other = await approved(p, "shexian")
    assert (await file(p, other, role="supervision", firm=SUPERVISOR, amount_fen=2 * WAN)).status_code == 201
    moot = await p.http.post(f"/projects/{other['id']}/exceptions", headers=AUTHORITY, json=body)
    assert moot.status_code == 409, moot.text


def purchase_body(**extra: Any) -> dict[str, Any]:
    return {
        "jurisdiction": "lhasa",
        "title": "办公楼网络改造",
        "category": "network_renovation",
        "amount_fen": 30 * WAN,
        "supplier": CONTRACTOR[0],
        "credit_code": CONTRACTOR[1],
        "procured_on": "2026-02-25",
        **extra,
    }


async def test_lhasa_a_purchase_outside_the_plan_is_filed_within_a_month_or_marked_late(
    procurement: Procurement,
) -> None:
    p = procurement
    agency = bearer(Role.APPLICANT, unique("市局"), sub="经办人")
    recorded = await p.http.post("/purchases", headers=agency, json=purchase_body())
    assert recorded.status_code == 201, recorded.text
    purchase = recorded.json()
    # Procured 2/25: filed by 3/25 (lhasa §10 第二款: 采购完成后1个月内).
    assert purchase["filing_due_on"] == "2026-03-25" and purchase["state"] == "running"
    assert purchase["articles"] == ["lhasa §10"]

    # The limit passes unfiled: the scan events it once, as a missed deadline.
    p.clock.now = datetime(2026, 3, 26, 2, 0, tzinfo=UTC)
    scanned = await p.http.post("/projects/deadline-scan", headers=AUTHORITY)
    assert scanned.json() == {"missed": 1}, scanned.text
    assert (await p.http.post("/projects/deadline-scan", headers=AUTHORITY)).json() == {"missed": 0}
    (missed,) = await event(p, purchase, "deadline_missed")
    assert missed["deadline"] == "purchase_filing" and missed["articles"] == ["lhasa §10"]
    assert missed["due_on"] == "2026-03-25"

    filed = await p.http.post(
        f"/purchases/{purchase['id']}/filing", headers=agency, json={"materials": "采购合同、验收单、发票"}
    )
    assert filed.status_code == 200, filed.text
    assert filed.json()["state"] == "filed" and filed.json()["late"]
    assert filed.json()["notes"][0]["code"] == "purchase_filed_late"
    (filed_event,) = await event(p, purchase, "purchase_filed")
    assert filed_event["late"] and filed_event["notes"][0]["articles"] == ["lhasa §10"]
    again = await p.http.post(
        f"/purchases/{purchase['id']}/filing", headers=agency, json={"materials": "再报"}
    )
    assert again.status_code == 409, again.text

    # Another agency does not see it; the authority does.
    stranger = bearer(Role.APPLICANT, unique("市局"), sub="他人")
    assert (await p.http.get(f"/purchases/{purchase['id']}", headers=stranger)).status_code == 404
    listed = await p.http.get("/purchases", headers=AUTHORITY, params={"jurisdiction": "lhasa"})
    assert [x["id"] for x in listed.json()["items"]] == [purchase["id"]]


async def test_purchases_are_of_the_listed_kinds_and_only_where_the_text_provides(
    procurement: Procurement,
) -> None:
    p = procurement
    agency = bearer(Role.APPLICANT, unique("县局"), sub="经办人")
    wrong_kind = await p.http.post("/purchases", headers=agency, json=purchase_body(category="platform"))
    assert wrong_kind.status_code == 422 and "不在办法所列范围" in wrong_kind.json()["detail"]
    elsewhere = await p.http.post("/purchases", headers=agency, json=purchase_body(jurisdiction="shexian"))
    assert elsewhere.status_code == 422 and "未规定计划外采购备案" in elsewhere.json()["detail"]
    # Filed with its record, in time: kept as filed, not late.
    at_once = await p.http.post(
        "/purchases",
        headers={**agency, "Idempotency-Key": unique("k")},
        json=purchase_body(category="office_equipment", materials="采购合同"),
    )
    assert at_once.status_code == 201 and at_once.json()["state"] == "filed" and not at_once.json()["late"]
