"""Procurement's open data: an OCDS 1.1 release package of tenders, awards, contracts and
amendments, valid against the OCDS schema, with exact amounts, merged by ocdskit into a compiled
release as an open-contracting tool would, and only what the caller may see."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from ocdskit.combine import merge

from shared.auth import Role
from tests.conftest import bearer
from tests.ocds_schema import parsed, problems, schema
from tests.service.test_procurement_service import (
    AUTHORITY,
    CONTRACTOR,
    SUPERVISOR,
    WAN,
    Procurement,
    agency_of,
    approved,
    change,
    file,
    procurement,
)

pytestmark = pytest.mark.services("procurement")
__all__ = ["procurement"]  # the service's fixture

PRICE = 180 * WAN + 55  # 1,800,000.55 元: cents must survive


async def package(p: Procurement, headers: dict[str, str], **params: Any) -> Any:
    return await p.http.get("/reports/ocds", headers=headers, params={"jurisdiction": "lhasa", **params})


async def procured(p: Procurement) -> tuple[dict[str, Any], dict[str, str]]:
    """A lhasa project approved on 3/02, tendered, its construction and supervision contracts filed,
    one change filed (in force) and one that, added up past lhasa §16's 15%, waits for approval;
    the ids of what was made."""
    project = await approved(p, "lhasa", 200 * WAN)
    p.clock.now = datetime(2026, 3, 20, 2, 0, tzinfo=UTC)
    tender = await p.http.post(
        f"/projects/{project['id']}/tenders",
        headers=agency_of(project),
        json={
            "method": "public_tender",
            "announced_on": "2026-03-05",
            "awarded_on": "2026-03-16",
            "bidders": ["甲公司", CONTRACTOR[0], "乙公司"],
            "winner": CONTRACTOR[0],
            "winner_credit_code": CONTRACTOR[1],
            "amount_fen": PRICE,
        },
    )
    assert tender.status_code == 200, tender.text
    built = await file(p, project, amount_fen=PRICE, signed_on=date(2026, 3, 17))
    assert built.status_code == 201, built.text
    p.clock.now = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)
    watched = await file(p, project, role="supervision", firm=SUPERVISOR, amount_fen=3 * WAN)
    assert watched.status_code == 201, watched.text
    p.clock.now = datetime(2026, 4, 1, 2, 0, tzinfo=UTC)
    filed = await change(p, project, adjustment_fen=10 * WAN, ground="business")
    assert filed.json()["status"] == "filed", filed.text
    pending = await change(p, project, adjustment_fen=25 * WAN, ground="business")
    assert pending.json()["status"] == "pending", pending.text
    ids = {
        "tender": tender.json()["tenders"][0]["id"],
        "construction": built.json()["id"],
        "supervision": watched.json()["id"],
        "change": filed.json()["id"],
        "pending": pending.json()["id"],
    }
    return project, ids


def by_tag(releases: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {"+".join(r["tag"]) + ":" + r["id"].rsplit("-", 1)[-1]: r for r in releases}


async def test_the_package_is_valid_ocds_with_every_step_and_exact_amounts(procurement: Procurement) -> None:
    p = procurement
    project, ids = await procured(p)
    response = await package(p, AUTHORITY, project_id=project["id"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert problems(response.content) == []
    body = parsed(response.content)
    assert body["version"] == "1.1" and body["publisher"]["name"] == "拉萨市市经济和信息化局"
    assert body["uri"].startswith("http") and "/reports/ocds" in body["uri"]

    releases = body["releases"]
    ocid = f"ocds-govit-{project['id']}"
    assert {r["ocid"] for r in releases} == {ocid}
    assert [r["tag"] for r in releases] == [
        ["planning"],
        ["tender", "award"],
        ["contract"],
        ["award", "contract"],
        ["contractAmendment"],
    ]
    assert [r["date"] for r in releases] == sorted(r["date"] for r in releases)  # same offsets in the day
    planning, tendered, built, watched, amended = releases
    assert planning["date"] == "2026-03-02T00:00:00+08:00"
    assert planning["planning"]["budget"]["amount"] == {"amount": Decimal("2000000.00"), "currency": "CNY"}

    tender = tendered["tender"]
    assert (tender["id"], tender["procurementMethod"], tender["procurementMethodDetails"]) == (
        ids["tender"],
        "open",
        "公开招标",
    )
    assert tender["numberOfTenderers"] == 3 and tender["tenderPeriod"]["startDate"].startswith("2026-03-05")
    (award,) = tendered["awards"]
    assert award["value"]["amount"] == Decimal("1800000.55")  # not 1800000.5500000001
    winner = f"CN-USCC-{CONTRACTOR[1]}"
    assert award["suppliers"] == [{"id": winner, "name": CONTRACTOR[0]}]
    parties = {party["id"]: party for party in tendered["parties"]}
    assert parties[winner]["identifier"] == {
        "scheme": "CN-USCC",
        "id": CONTRACTOR[1],
        "legalName": CONTRACTOR[0],
    }
    assert parties[winner]["roles"] == ["tenderer", "supplier"]
    assert tendered["buyer"]["name"] == project["agency"]

    (construction,) = built["contracts"]
    assert construction["id"] == ids["construction"] and construction["awardID"] == award["id"]
    assert construction["value"]["amount"] == Decimal("1800000.55")
    assert [m["type"] for m in construction["milestones"]] == ["financing"] * 3
    assert construction["period"]["startDate"] == "2026-03-17T00:00:00+08:00"
    # the supervisor won no recorded tender: the contract brings its own award
    (supervision,) = watched["contracts"]
    (implied,) = watched["awards"]
    assert supervision["awardID"] == implied["id"]
    assert implied["suppliers"][0]["id"] == f"CN-USCC-{SUPERVISOR[1]}"

    (changed,) = amended["contracts"]
    assert changed["id"] == ids["construction"]  # a change amends the construction contract
    (amendment,) = changed["amendments"]
    assert amendment["id"] == ids["change"] and amendment["amendsReleaseID"] == built["id"]
    assert amendment["releaseID"] == amended["id"] and amendment["rationale"] == "调整建设内容"
    assert "lhasa §16" in amendment["description"] and "100000.00 元" in amendment["description"]
    assert ids["pending"] not in response.text  # a change not yet in force amends nothing


async def test_an_open_contracting_tool_compiles_the_process(procurement: Procurement) -> None:
    p = procurement
    project, ids = await procured(p)
    response = await package(p, AUTHORITY, project_id=project["id"])
    release_schema = schema("release-schema.json")
    (compiled,) = list(merge([response.json()], schema=release_schema))
    assert compiled["tag"] == ["compiled"] and compiled["ocid"] == f"ocds-govit-{project['id']}"
    assert {c["id"] for c in compiled["contracts"]} == {ids["construction"], ids["supervision"]}
    assert len(compiled["awards"]) == 2
    construction = next(c for c in compiled["contracts"] if c["id"] == ids["construction"])
    assert [a["id"] for a in construction["amendments"]] == [ids["change"]]
    assert len(construction["milestones"]) == 3  # the amendment release did not erase them
    assert compiled["planning"]["budget"]["projectID"] == project["id"]


async def test_since_takes_what_is_new_and_nothing_new_is_no_content(procurement: Procurement) -> None:
    p = procurement
    project, _ = await procured(p)
    later = await package(p, AUTHORITY, project_id=project["id"], since="2026-03-20")
    assert later.status_code == 200 and problems(later.content) == []
    assert [r["tag"] for r in later.json()["releases"]] == [
        ["contract"],
        ["award", "contract"],
        ["contractAmendment"],
    ]
    assert later.json()["publishedDate"] == later.json()["releases"][-1]["date"]
    nothing = await package(p, AUTHORITY, project_id=project["id"], since="2026-04-02")
    assert nothing.status_code == 204 and nothing.content == b""


async def test_an_agency_sees_its_own_and_another_jurisdiction_nothing(procurement: Procurement) -> None:
    p = procurement
    project, _ = await procured(p)
    own = await package(p, agency_of(project))
    assert own.status_code == 200 and {r["ocid"] for r in own.json()["releases"]} == {
        f"ocds-govit-{project['id']}"
    }
    stranger = await package(p, bearer(Role.APPLICANT, "另一个单位", jurisdictions=["lhasa"]))
    assert stranger.status_code == 204, stranger.text
    elsewhere = await package(p, bearer(Role.AUTHORITY, sub="他处", jurisdictions=["zhonglou"]))
    assert elsewhere.status_code == 403 and elsewhere.json()["code"] == "forbidden_jurisdiction"
    unnamed = await p.http.get("/reports/ocds", headers=AUTHORITY)  # of every jurisdiction: which?
    assert unnamed.status_code == 422 and unnamed.json()["code"] == "jurisdiction_required", unnamed.text
    only = await p.http.get("/reports/ocds", headers=bearer(Role.AUTHORITY, jurisdictions=["lhasa"]))
    assert only.status_code == 200 and only.json()["publisher"]["name"] == "拉萨市市经济和信息化局"
    admin = bearer(Role.ADMIN, sub="运维")
    unknown = await p.http.get("/reports/ocds", headers=admin, params={"jurisdiction": "atlantis"})
    assert unknown.status_code == 404 and unknown.json()["code"] == "unknown_jurisdiction"
