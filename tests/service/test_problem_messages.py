"""What people read: invalid fields told in Chinese by name and path, an unreadable body 400,
statuses labelled in Chinese and amounts in 元."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from services.intake.main import create_app as create_intake
from services.intake.settings import IntakeSettings
from tests.conftest import real_bus, running, unique
from tests.intake_flow import authority, draft, register

PROBLEM = "application/problem+json"
pytestmark = pytest.mark.parametrize("backend", ["sqlite"])


@pytest.fixture
async def intake(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> AsyncIterator[AsyncClient]:
    settings = IntakeSettings(
        database_url=await make_database("intake"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    async with real_bus(nats_url, isolation), running(create_intake(settings)) as http:
        yield http


async def test_a_truncated_or_non_json_body_is_400_malformed_body(intake: AsyncClient) -> None:
    headers = {**authority("zhonglou"), "Content-Type": "application/json"}
    cut = await intake.post("/agencies", headers=headers, content=b'{"jurisdiction": "zhonglou", "na')
    assert cut.status_code == 400, cut.text
    assert cut.headers["content-type"].startswith(PROBLEM)
    assert cut.json()["code"] == "malformed_body"
    assert "JSON" in cut.json()["detail"]

    text = {**authority("zhonglou"), "Content-Type": "text/plain"}
    plain = await intake.post("/agencies", headers=text, content="单位名称：某局".encode())
    assert plain.status_code == 400, plain.text
    assert plain.json()["code"] == "malformed_body"


async def test_invalid_fields_are_told_in_chinese_by_name_and_path_with_the_type_kept(
    intake: AsyncClient,
) -> None:
    # A registration with the name too short, an unknown level and no jurisdiction.
    response = await intake.post(
        "/agencies", headers=authority("zhonglou"), json={"name": "局", "level": "nation"}
    )
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["code"] == "invalid_request"
    errors = {e["field"]: e for e in body["errors"]}
    assert errors.keys() == {"jurisdiction", "name", "level"}

    assert errors["jurisdiction"]["type"] == "missing"
    assert errors["jurisdiction"]["msg"] == "辖区代码（jurisdiction）：必填，未提供"
    assert errors["name"]["type"] == "string_too_short"
    assert errors["name"]["title"] == "单位名称"
    assert errors["name"]["msg"] == "单位名称（name）：长度至少 2 个字符"
    assert errors["name"]["msg_en"].startswith("String should have at least 2 characters")
    assert errors["level"]["type"] == "enum"
    assert errors["level"]["msg"].startswith("单位层级（level）：取值不在允许的范围内，应为 ")
    assert errors["level"]["loc"] == ["body", "level"]


async def test_a_wrong_type_in_a_query_parameter_names_the_parameter(intake: AsyncClient) -> None:
    response = await intake.get("/projects", headers=authority("zhonglou"), params={"limit": "many"})
    assert response.status_code == 422, response.text
    (error,) = response.json()["errors"]
    assert error["loc"] == ["query", "limit"]
    assert error["type"] == "int_parsing"
    assert error["msg"].endswith("应为整数，给出的值无法解析为整数")
    assert "query.limit" in error["msg"]


async def test_a_project_says_its_status_in_chinese_and_its_amounts_in_yuan(intake: AsyncClient) -> None:
    agency = unique("区教育局")
    await register(intake, "zhonglou", agency)
    project = await draft(intake, agency, "zhonglou", amount_fen=120_000_001, software_fen=0)
    assert project["status"] == "draft"
    assert project["status_label"] == "草稿"
    assert project["kind_label"] == "建设类"
    assert project["amount_fen"] == 120_000_001
    assert project["amount_yuan"] == "1,200,000.01 元"
    assert project["software_yuan"] == "0.00 元"
    listed = await intake.get("/projects", headers=authority("zhonglou"), params={"agency": agency})
    (item,) = listed.json()["items"]
    assert item["status_label"] == "草稿" and item["amount_yuan"] == "1,200,000.01 元"
