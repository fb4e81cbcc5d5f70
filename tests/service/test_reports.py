"""Reports as files: intake's project register and a year's plan, funding's payment ledger, each
as CSV (read back with csv) and XLSX (read back with openpyxl), with Chinese headers, amounts in 元
from fen, and only what the caller may see."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from services.funding.reports import LEDGER
from services.intake.reports import REGISTER
from shared.auth import Role
from shared.report_files import yuan
from tests.conftest import bearer, unique
from tests.intake_flow import AUTHORITY, declare, draft, publish_plan, register, screen
from tests.service.test_funding_service import FINANCE, WAN, Funding, declared, funding, unit
from tests.service.test_intake_lifecycle import Intake, intake

# "acceptance" in the funding part is funding's gate of that name.
pytestmark = pytest.mark.services("intake", "funding", homonyms=("acceptance",))
__all__ = ["funding", "intake"]  # the services' fixtures


def read_csv(body: bytes) -> list[dict[str, str]]:
    assert body.startswith("\ufeff".encode())  # Excel reads UTF-8 only with the mark
    return list(csv.DictReader(io.StringIO(body.decode("utf-8-sig"))))


def read_xlsx(body: bytes) -> list[dict[str, Any]]:
    sheet = load_workbook(io.BytesIO(body), read_only=True).worksheets[0]
    header, *rows = list(sheet.iter_rows(values_only=True))
    # read-only sheets leave out the empty cells at a row's end
    return [dict(zip(header, [*row, *[None] * (len(header) - len(row))], strict=True)) for row in rows]


def test_yuan_is_exact_from_fen() -> None:
    assert [yuan(f) for f in (0, 1, 99, 120_000_000, 10**17 + 1)] == [
        Decimal("0.00"),
        Decimal("0.01"),
        Decimal("0.99"),
        Decimal("1200000.00"),
        Decimal("1000000000000000.01"),
    ]


async def test_the_register_lists_what_the_caller_may_see_in_both_formats(intake: Intake) -> None:
    http = intake.http
    mine, theirs = unique("单位"), unique("单位")
    declared_one = await declare(http, mine, "zhonglou", amount_fen=123_456_789)
    await register(http, "zhonglou", theirs)
    other = await draft(http, theirs, "zhonglou", amount_fen=50_000_000)

    everything = await http.get("/reports/projects", headers=AUTHORITY, params={"jurisdiction": "zhonglou"})
    assert everything.status_code == 200, everything.text
    assert everything.headers["content-type"].startswith("text/csv")
    rows = {row["项目编号"]: row for row in read_csv(everything.content)}
    assert list(next(iter(rows.values()))) == [header for header, _ in REGISTER]
    assert rows[declared_one["id"]]["申报金额（元）"] == "1234567.89"
    assert rows[declared_one["id"]]["申报单位"] == mine
    assert rows[declared_one["id"]]["状态"] == declared_one["status_label"]
    assert rows[other["id"]]["状态"] == other["status_label"]

    agency = bearer(Role.APPLICANT, mine, jurisdictions=["zhonglou"])
    own = await http.get("/reports/projects", headers=agency, params={"format": "xlsx"})
    assert own.status_code == 200, own.text
    sheet = read_xlsx(own.content)
    assert [row["项目编号"] for row in sheet] == [declared_one["id"]]  # not the other agency's
    assert Decimal(str(sheet[0]["申报金额（元）"])) == Decimal("1234567.89")  # a number cell

    elsewhere = bearer(Role.AUTHORITY, sub="他处", jurisdictions=["lhasa"])
    refused = await http.get("/reports/projects", headers=elsewhere, params={"jurisdiction": "zhonglou"})
    assert refused.status_code == 403, refused.text
    nothing = await http.get("/reports/projects", headers=elsewhere)
    assert {row["辖区"] for row in read_csv(nothing.content)} <= {"lhasa"}


async def test_a_years_plan_comes_in_its_ranking_with_its_document(intake: Intake) -> None:
    http = intake.http
    agency = unique("单位")
    first = await declare(http, agency, "zhonglou", amount_fen=30_000_000)
    second = await declare(http, agency, "zhonglou", amount_fen=40_000_000)
    unplanned = await declare(http, agency, "zhonglou", amount_fen=50_000_000)  # declared, not screened
    for project in (first, second):
        assert (await screen(http, project)).json()["status"] == "accepted"
    published = await publish_plan(http, "zhonglou", first["plan_year"], second["id"], first["id"])
    assert published.status_code == 200, published.text
    document = published.json()["document"]

    plan = await http.get(
        "/reports/projects",
        headers=AUTHORITY,
        params={"jurisdiction": "zhonglou", "plan_year": first["plan_year"], "format": "xlsx"},
    )
    assert plan.status_code == 200, plan.text
    assert "attachment" in plan.headers["content-disposition"]
    rows = [row for row in read_xlsx(plan.content) if row["申报单位"] == agency]
    # the ranking, not the order they were made; a project of the year left out of the plan last
    assert [row["项目编号"] for row in rows] == [second["id"], first["id"], unplanned["id"]]
    assert [row["计划排序"] for row in rows] == [1, 2, None]
    assert [row["计划文号"] for row in rows] == [document, document, None]


async def test_the_ledger_shows_held_requests_with_the_articles_of_their_closed_gates(
    funding: Funding,
) -> None:
    f = funding
    project = await declared(f, "xunyang")
    other = await declared(f, "xunyang")
    for who, fen in ((project, 3 * WAN), (other, 5 * WAN)):
        held = await f.http.post(
            f"/projects/{who['id']}/disbursements",
            headers=unit(who),
            json={"amount_fen": fen, "purpose": "可行性研究报告编制", "kind": "preparatory"},
        )
        assert held.status_code == 202, held.text

    ledger = await f.http.get("/reports/ledger", headers=FINANCE, params={"project_id": project["id"]})
    assert ledger.status_code == 200, ledger.text
    [row] = read_csv(ledger.content)
    assert list(row) == [header for header, _ in LEDGER]
    assert (row["记录"], row["项目编号"], row["金额（元）"]) == ("拨付申请", project["id"], "30000.00")
    assert row["状态"] and row["状态"] != "held"  # the label, not the code
    assert "xunyang §8" in row["未满足的前置条件及依据"]

    own = await f.http.get("/reports/ledger", headers=unit(project), params={"format": "xlsx"})
    assert own.status_code == 200, own.text
    assert [r["项目编号"] for r in read_xlsx(own.content)] == [project["id"]]  # not the other agency's
