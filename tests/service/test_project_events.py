"""A project's events read back from the service that announced them, for whoever may see it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from services.intake.main import create_app as create_intake
from services.intake.settings import IntakeSettings
from shared.auth import Role
from tests.conftest import bearer, running, unique
from tests.intake_flow import Clock, applicant, authority, declare, screen


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
    async with running(create_intake(settings, clock=Clock())) as http:
        yield http


async def test_the_agency_reads_its_projects_events_in_the_order_they_were_announced(
    intake: AsyncClient,
) -> None:
    project = await declare(intake, f"教育局{unique()}")
    assert (await screen(intake, project)).status_code == 200
    response = await intake.get(f"/projects/{project['id']}/events", headers=applicant(project))
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["total"] == 2
    kinds = [(e["type"], e["summary"], e["sequence"]) for e in page["items"]]
    assert kinds == [
        ("govit.intake.project_declared.v1", "项目已申报", 1),
        ("govit.intake.project_screened.v1", "项目已形式审查", 2),
    ]
    first = page["items"][0]
    assert first["data"]["project_id"] == project["id"] and first["source"].endswith("intake")

    second = await intake.get(
        f"/projects/{project['id']}/events", headers=applicant(project), params={"limit": 1, "offset": 1}
    )
    assert [e["sequence"] for e in second.json()["items"]] == [2] and second.json()["total"] == 2


async def test_another_agency_or_jurisdiction_finds_no_such_project(intake: AsyncClient) -> None:
    project = await declare(intake, f"教育局{unique()}")
    path = f"/projects/{project['id']}/events"
    other_agency = bearer(Role.APPLICANT, "另一单位", jurisdictions=["zhonglou"])
    for headers in (other_agency, authority("shexian"), bearer(Role.FINANCE, jurisdictions=["lhasa"])):
        response = await intake.get(path, headers=headers)
        assert response.status_code == 404 and response.json()["code"] == "project_not_found"
    assert (await intake.get(path, headers=authority("zhonglou"))).json()["total"] == 1
    unknown = await intake.get("/projects/nothing-here/events", headers=authority("zhonglou"))
    assert unknown.status_code == 404
