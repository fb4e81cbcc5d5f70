"""How a project is built, over HTTP: the platform it is built on (shexian §10), the networks it
links over (xunyang §12–13), its equipment (lhasa §26) and software costs (lhasa §11), and the
hardware filings (bayingolin §17) — refusals as problem+json, each citing its article."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from services.intake.main import create_app as create_intake
from services.intake.settings import IntakeSettings
from shared.auth import Role
from shared.bus import JetStreamBus
from tests.conftest import bearer, real_bus, running, unique
from tests.intake_flow import (
    AUTHORITY,
    Clock,
    applicant,
    authority,
    declare,
    draft,
    register,
    screen,
    submit,
    take_to_approval,
    upload_all,
)


@pytest.fixture
async def intake(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[tuple[AsyncClient, JetStreamBus]]:
    clock = Clock()
    settings = IntakeSettings(
        database_url=await make_database("intake"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    async with (
        real_bus(nats_url, isolation, clock) as bus,
        running(create_intake(settings, clock=clock)) as http,
    ):
        yield http, bus


def codes(problem: dict[str, Any]) -> dict[str, str]:
    return {r["code"]: r["rule"] for r in problem.get("reasons", [])}


async def detail(http: AsyncClient, project: dict[str, Any]) -> dict[str, Any]:
    response = await http.get(f"/projects/{project['id']}", headers=AUTHORITY)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def test_shexian_builds_off_the_platform_only_with_a_reason_a_review_and_the_bureaus_approval(
    intake: tuple[AsyncClient, JetStreamBus],
) -> None:
    http, bus = intake
    agency = unique("县公安局")
    await register(http, "shexian", agency)
    project = await draft(http, agency, "shexian", on_platform=False)
    await upload_all(http, project, "declaration")

    # shexian §10: not on the 全省一体化数据基础平台 without saying why — the declaration is refused.
    refused = await submit(http, project)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert refused.json()["code"] == "declaration_refused"
    assert codes(refused.json()) == {"off_platform_unexplained": "shexian §10"}
    assert "全省一体化数据基础平台" in refused.json()["reasons"][0]["message"]

    explained = await http.patch(
        f"/projects/{project['id']}",
        headers=applicant(project),
        json={"off_platform_reason": "数据须留存于公安专网，不能在平台上建设"},
    )
    assert explained.status_code == 200, explained.text
    declared = await submit(http, project)
    assert declared.status_code == 200, declared.text

    # Approval waits for the exception's 专业评审 and the 县数据资源局's approval.
    unapproved = await take_to_approval(http, bus, declared.json())
    assert unapproved.status_code == 422 and unapproved.json()["code"] == "approval_refused"
    assert codes(unapproved.json()) == {
        "signoff_missing:off_platform_review": "shexian §10",
        "signoff_missing:off_platform_approval": "shexian §10",
    }
    for signoff in ("off_platform_review", "off_platform_approval"):
        recorded = await http.post(
            f"/projects/{project['id']}/signoffs",
            headers=authority("shexian"),
            json={"signoff": signoff, "document_ref": f"歙数资〔2026〕{len(signoff)}号"},
        )
        assert recorded.status_code == 201, recorded.text
    approved = await http.post(
        f"/projects/{project['id']}/approval",
        headers=authority("shexian"),
        json={"approval_number": unique("歙数资批"), "approved_amount_fen": project["amount_fen"]},
    )
    assert approved.status_code == 200, approved.text
    shown = await detail(http, project)
    assert shown["on_platform"] is False and shown["off_platform_reason"].startswith("数据须留存")
    assert {(s["signoff"], s["article"], s["recorded"]) for s in shown["required_signoffs"]} == {
        ("off_platform_review", "shexian §10", True),
        ("off_platform_approval", "shexian §10", True),
    }


async def test_xunyang_refuses_at_screening_a_network_of_its_own_and_leased_fibre(
    intake: tuple[AsyncClient, JetStreamBus],
) -> None:
    http, _ = intake
    # xunyang §12: the district and its streets over 乡乡通; §13: departments over 政务信息网.
    lawful = await declare(
        http,
        unique("区民政局"),
        "xunyang",
        network_links={"vertical": "township_network", "horizontal": "gov_info_network"},
    )
    assert (await screen(http, lawful)).json()["status"] == "accepted"
    own = await declare(
        http,
        unique("区城管局"),
        "xunyang",
        network_links={"vertical": "department_network", "horizontal": "gov_info_network"},
        leases_lines=True,
    )
    screened = await screen(http, own)
    assert screened.status_code == 200 and screened.json()["status"] == "rejected"
    reasons = (await detail(http, own))["decisions"][-1]["reasons"]
    assert {r["code"]: r["rule"] for r in reasons} == {
        "network_not_designated:vertical": "xunyang §12",
        "leased_lines:vertical": "xunyang §12",
        "leased_lines:horizontal": "xunyang §13",
    }
    # A link the declaration does not know is a 422 naming the field.
    bad = await http.post(
        "/projects",
        headers=bearer(Role.APPLICANT, own["agency"], jurisdictions=["xunyang"]),
        json={
            "jurisdiction": "xunyang",
            "title": "某系统",
            "kind": "construction",
            "amount_fen": 1,
            "network_links": {"diagonal": "internet"},
        },
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"][:2] == ["body", "network_links"]


async def test_lhasa_screening_recommends_against_original_development_and_refuses_uncontrolled_servers(
    intake: tuple[AsyncClient, JetStreamBus],
) -> None:
    http, _ = intake
    # lhasa §26: servers and storage 安全自主可控, declared so, or refused.
    servers = await declare(http, unique("市医保局"), "lhasa", hardware=["server", "storage"])
    assert (await screen(http, servers)).json()["status"] == "rejected"
    (reason,) = (await detail(http, servers))["decisions"][-1]["reasons"]
    assert (reason["code"], reason["rule"]) == ("equipment_not_secure_controllable", "lhasa §26")

    # lhasa §11: 原则上 no original development; the authority may admit one, on the record.
    built = await declare(
        http, unique("市住建局"), "lhasa", original_development=True, software_fen=50_000_000
    )
    excepted = {
        "code": "original_development",
        "reason": "无可满足需求的成品软件",
        "document_ref": "拉经信〔2026〕3号",
    }
    admitted = await http.post(
        f"/projects/{built['id']}/screening", headers=authority("lhasa"), json={"exceptions": [excepted]}
    )
    assert admitted.status_code == 200 and admitted.json()["status"] == "accepted", admitted.text
    (made,) = [f for f in admitted.json()["flags"] if f["code"] == "exception:original_development"]
    assert made["articles"] == ["lhasa §11"] and "拉经信〔2026〕3号" in made["message"]


async def test_bayingolin_lists_the_hardware_filings_due_before_procurement(
    intake: tuple[AsyncClient, JetStreamBus],
) -> None:
    http, _ = intake
    project = await declare(http, unique("州教育局"), "bayingolin", hardware=["server", "network"])
    required = (await detail(http, project))["required_signoffs"]
    assert {(s["signoff"], s["article"], s["before"], s["recorded"]) for s in required} == {
        ("hardware_secrecy_filing", "bayingolin §17", "procurement", False),
        ("hardware_finance_filing", "bayingolin §17", "procurement", False),
    }
    recorded = await http.post(
        f"/projects/{project['id']}/signoffs",
        headers=authority("bayingolin"),
        json={"signoff": "hardware_finance_filing", "document_ref": "巴财采备〔2026〕12号"},
    )
    assert recorded.status_code == 201, recorded.text
