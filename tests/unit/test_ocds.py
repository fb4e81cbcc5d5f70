"""The OCDS mapping as pure functions: every procurement method has its place in OCDS's closed
codelist, and what happened before any contract (or before any procurement) is published as
what it amends, valid against the schema."""

from __future__ import annotations

import datetime as dt
from typing import Any, get_args

from services.procurement.domain import Change, ChangeState, Contract, Project, Role, Status
from services.procurement.domain.milestones import PaymentMilestone
from services.procurement.domain.records import Tender
from services.procurement.ocds import METHODS, Publisher, package, releases
from services.procurement.schemas import TenderMethod
from tests.ocds_schema import problems, schema

WAN = 1_000_000
UTC = dt.UTC
PUBLISHER = Publisher("某市数据资源局", "ocds-test01", "https://creativecommons.org/licenses/by/4.0/")


def project(**kw: Any) -> Project:
    fields: dict[str, Any] = {
        "id": "p1",
        "jurisdiction": "shexian",
        "agency": "某单位",
        "title": "政务服务平台",
        "kind": "construction",
        "declared_fen": 100 * WAN,
        "software_fen": 0,
        "status": Status.APPROVED,
        "approved_fen": 100 * WAN,
        "approved_on": dt.date(2026, 3, 2),
    }
    return Project(**(fields | kw))


def tender(id: str = "t1", method: str = "public_tender", awarded: int = 10) -> Tender:
    return Tender(
        method=method,
        announced_on=None,
        awarded_on=dt.date(2026, 3, awarded),
        bidders=("甲", "乙"),
        winner="甲",
        winner_credit_code="91320400MA1XXXXX0A",
        amount_fen=90 * WAN,
        id=id,
    )


def contract(credit_code: str = "91320400MA1XXXXX0A", day: int = 12) -> Contract:
    return Contract(
        id=f"c{day}",
        project_id="p1",
        jurisdiction="shexian",
        agency="某单位",
        role=Role.CONSTRUCTION,
        counterparty="甲",
        credit_code=credit_code,
        amount_fen=90 * WAN,
        signed_on=dt.date(2026, 3, day),
        starts_on=None,
        ends_on=None,
        milestones=[PaymentMilestone("全款", "signing", "100", 90 * WAN)],
        ip_to_government=True,
        filed_on=dt.date(2026, 3, day),
        filing_due_on=None,
        late=False,
        filed_by="经办人",
        filed_at=dt.datetime(2026, 3, day, 2, tzinfo=UTC),
    )


def change(day: int, state: ChangeState = ChangeState.FILED) -> Change:
    return Change(
        id=f"ch{day}",
        project_id="p1",
        jurisdiction="shexian",
        agency="某单位",
        description="调整建设内容",
        scope_effect="增加接口",
        total_delta_fen=0,
        adjustment_fen=5 * WAN,
        goal_changed=False,
        ground="optimisation",
        path="file",
        approvers=[],
        decisions={},
        review=None,
        status=state,
        reasons=[],
        articles=["shexian §38"],
        requested_by="经办人",
        requested_at=dt.datetime(2026, 3, day, 2, tzinfo=UTC),
    )


def published(p: Project, contracts: list[Contract], changes: list[Change]) -> dict[str, Any]:
    made = releases(p, contracts, changes, PUBLISHER.ocid_prefix)
    return package([r for _, r in made], PUBLISHER, "https://example.gov.cn/ocds", made[-1][0])


def test_every_procurement_method_has_a_code_of_the_closed_codelist_or_none() -> None:
    codelist = schema("release-schema.json")["definitions"]["Tender"]["properties"]["procurementMethod"][
        "enum"
    ]
    assert set(METHODS) == set(get_args(TenderMethod))
    assert {code for code, _ in METHODS.values()} <= set(codelist)
    for method in METHODS:
        body = published(project(tenders=[tender(method=method)]), [], [])
        assert problems(body) == [], method
        (tendered,) = [r for r in body["releases"] if "tender" in r["tag"]]
        assert tendered["tender"]["procurementMethodDetails"] == METHODS[method][1]


def test_a_change_after_the_tender_and_before_any_contract_amends_the_tender() -> None:
    body = published(project(tenders=[tender()]), [], [change(11)])
    assert problems(body) == [] and body["license"] == PUBLISHER.license
    planning, tendered, amended = body["releases"]
    assert amended["tag"] == ["tenderAmendment"]
    (amendment,) = amended["tender"]["amendments"]
    assert amendment["amendsReleaseID"] == tendered["id"] and "shexian §38" in amendment["description"]
    assert planning["ocid"] == "ocds-test01-p1"


def test_a_change_before_any_procurement_amends_nothing_published_and_a_refused_one_nothing_at_all() -> None:
    body = published(project(tenders=[tender(awarded=20)]), [], [change(5), change(21, ChangeState.REJECTED)])
    assert [r["tag"] for r in body["releases"]] == [["planning"], ["tender", "award"]]


def test_records_from_before_tender_ids_still_give_unique_releases_linked_to_their_awards() -> None:
    old = project(tenders=[tender(id=""), tender(id="", awarded=11)])
    body = published(old, [contract(day=12)], [])
    assert problems(body) == []
    ids = [r["id"] for r in body["releases"]]
    assert len(ids) == len(set(ids)) == 4
    (signed,) = body["releases"][-1]["contracts"]
    assert signed["awardID"] == "2-award"  # the latest award its supplier won before signing


def test_a_malformed_release_is_caught() -> None:
    # the validation the tests rely on does catch what the schema forbids
    body = published(project(tenders=[tender()]), [contract()], [])
    body["releases"][1]["tender"]["procurementMethod"] = "public_tender"
    del body["releases"][2]["contracts"][0]["awardID"]
    body["releases"][0]["planning"]["budget"]["amount"]["currency"] = "RMB"
    found = problems(body)
    assert any("procurementMethod" in p for p in found)
    assert any("'awardID' is a required property" in p for p in found)
    assert any("currency" in p for p in found)
