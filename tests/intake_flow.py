"""Driving intake through its HTTP API the way agencies and the authority do, for the tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from httpx import AsyncClient

from shared.auth import Role
from shared.bus import JetStreamBus
from shared.consume import suite_source
from shared.contracts import Event, encode, subject_for
from shared.contracts.review import ReviewConcluded
from tests.conftest import EVENT_CLOCKS, bearer, on_the_stream

AUTHORITY = bearer(Role.AUTHORITY, sub="数据资源局审核员")  # of every jurisdiction, for the tests' reads


def authority(jurisdiction: str) -> dict[str, str]:
    """The authority of one jurisdiction, as the people who screen, plan and approve there act."""
    return bearer(Role.AUTHORITY, sub=f"{jurisdiction}数据资源局审核员", jurisdictions=[jurisdiction])


def applicant(project: dict[str, Any]) -> dict[str, str]:
    """The project's agency, acting in its jurisdiction."""
    return bearer(Role.APPLICANT, project["agency"], jurisdictions=[project["jurisdiction"]])


class Clock:
    """The instant intake believes it is; tests move it to cross deadlines instead of sleeping."""

    def __init__(self, now: datetime = datetime(2026, 6, 15, 2, 0, tzinfo=UTC)) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def register(
    intake: AsyncClient, jurisdiction: str, agency: str, level: str = "district"
) -> dict[str, Any]:
    response = await intake.post(
        "/agencies",
        headers=authority(jurisdiction),
        json={"jurisdiction": jurisdiction, "name": agency, "level": level},
    )
    assert response.status_code in (200, 201), response.text
    return dict(response.json())


async def draft(
    intake: AsyncClient, agency: str, jurisdiction: str = "zhonglou", **fields: Any
) -> dict[str, Any]:
    body = {
        "jurisdiction": jurisdiction,
        "title": "智慧教育平台",
        "kind": "construction",
        "amount_fen": 120_000_000,
        "summary": "建设全区统一的教育资源与管理平台",
        "security_plan": "按等保二级建设",
        "data_sharing_items": ["学籍信息"],
        **fields,
    }
    who = bearer(Role.APPLICANT, agency, jurisdictions=[jurisdiction])
    response = await intake.post("/projects", json=body, headers=who)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def checklist(intake: AsyncClient, project: dict[str, Any]) -> list[dict[str, Any]]:
    detail = await intake.get(f"/projects/{project['id']}", headers=authority(project["jurisdiction"]))
    assert detail.status_code == 200, detail.text
    return list(detail.json()["required_materials"])


async def upload(
    intake: AsyncClient,
    project: dict[str, Any],
    material: str,
    content: bytes = b"%PDF-1.7 ...",
    name: str = "a.pdf",
) -> Any:
    return await intake.post(
        f"/projects/{project['id']}/materials",
        headers=applicant(project),
        data={"material": material},
        files={"file": (name, content + uuid.uuid4().bytes, "application/pdf")},
    )


async def upload_all(intake: AsyncClient, project: dict[str, Any], stage: str | None = None) -> None:
    """Upload what the checklist asks for (of one stage, or all), as many copies as it wants."""
    for item in await checklist(intake, project):
        if stage is None or item["stage"] == stage:
            for _ in range(item["min_count"] - item["provided"]):
                response = await upload(intake, project, item["material"])
                assert response.status_code == 201, response.text


async def submit(intake: AsyncClient, project: dict[str, Any]) -> Any:
    return await intake.post(f"/projects/{project['id']}/submission", headers=applicant(project))


async def declare(
    intake: AsyncClient, agency: str, jurisdiction: str = "zhonglou", level: str = "district", **fields: Any
) -> dict[str, Any]:
    """Register the agency, draft, upload the declaration materials and submit."""
    await register(intake, jurisdiction, agency, level)
    project = await draft(intake, agency, jurisdiction, **fields)
    await upload_all(intake, project, "declaration")
    response = await submit(intake, project)
    assert response.status_code == 200, response.text
    return dict(response.json())


async def screen(intake: AsyncClient, project: dict[str, Any]) -> Any:
    return await intake.post(
        f"/projects/{project['id']}/screening", headers=authority(project["jurisdiction"])
    )


async def publish_plan(intake: AsyncClient, jurisdiction: str, year: int, *project_ids: str) -> Any:
    ranked = await intake.put(
        f"/plans/{jurisdiction}/{year}", headers=authority(jurisdiction), json={"ranking": list(project_ids)}
    )
    assert ranked.status_code == 200, ranked.text
    return await intake.post(
        f"/plans/{jurisdiction}/{year}/publication",
        headers=authority(jurisdiction),
        json={"document": f"{jurisdiction}计〔{year}〕{uuid.uuid4().hex[:4]}号"},
    )


async def publish(
    bus: JetStreamBus, event: Event, source: str | None = None, *, sequence: int | None = None
) -> str:
    """Publish an event onto the stream as another service would (by default as its own producer),
    dated by the clock of the services under test when the bus was given one."""
    event_id = str(uuid.uuid4())
    clock = EVENT_CLOCKS.get(bus)
    raw = encode(
        event,
        source=source or suite_source(event.type),
        event_id=event_id,
        time=clock() if clock else None,
        sequence=sequence,
    )
    await bus.publish(subject_for(bus.prefix, event), raw, {"Nats-Msg-Id": event_id})
    return event_id


# The review stage whose pass allows approval in each jurisdiction (funding.expert_review_required).
APPROVAL_STAGE = {
    "zhonglou": "demonstration",  # 论证 (zhonglou §11)
    "shexian": "feasibility",  # 可研 (shexian §21)
    "bayingolin": "declaration",  # 每月评审会 (bayingolin §9)
    "xunyang": "feasibility",
    "lhasa": "feasibility",  # 可研/初设 (lhasa §10–11)
}


def review_passed(
    project: dict[str, Any], verdict: str = "pass", stage: str | None = None
) -> ReviewConcluded:
    return ReviewConcluded(
        project_id=project["id"],
        jurisdiction=project["jurisdiction"],
        case_id=uuid.uuid4().hex,
        stage=stage or APPROVAL_STAGE[project["jurisdiction"]],  # type: ignore[arg-type]
        verdict=verdict,  # type: ignore[arg-type]
        scores=(85, 90, 88),
    )


async def approve(intake: AsyncClient, project: dict[str, Any], amount_fen: int | None = None) -> Any:
    return await intake.post(
        f"/projects/{project['id']}/approval",
        headers=authority(project["jurisdiction"]),
        json={
            "approval_number": f"批〔{uuid.uuid4().hex[:6]}〕号",
            "approved_amount_fen": amount_fen or project["amount_fen"],
        },
    )


async def events_of(bus: JetStreamBus, project_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Every event on the stream about one project, in order: (type, data)."""
    from shared.contracts import decode

    messages = await on_the_stream(bus, f"{bus.prefix}.events.*.{project_id}.>")
    decoded = [decode(m.data) for m in messages]
    return [(e.type, e.data.model_dump(mode="json")) for e in decoded]


async def event_of(bus: JetStreamBus, project_id: str, name: str) -> dict[str, Any] | None:
    """The data of the last `govit.intake.<name>.v1` event about the project, if any yet."""
    found = [data for kind, data in await events_of(bus, project_id) if kind == f"govit.intake.{name}.v1"]
    return found[-1] if found else None


async def take_to_approval(
    intake: AsyncClient, bus: JetStreamBus, project: dict[str, Any], amount_fen: int | None = None
) -> Any:
    """From a declared project: screening, the plan, the review's pass, every document, then 批复."""
    from tests.conftest import eventually

    screened = await screen(intake, project)
    assert screened.json()["status"] == "accepted", screened.text
    published = await publish_plan(intake, project["jurisdiction"], project["plan_year"], project["id"])
    assert published.status_code == 200, published.text
    await publish(bus, review_passed(project))

    async def reviewed() -> bool:
        detail = await intake.get(f"/projects/{project['id']}", headers=authority(project["jurisdiction"]))
        return bool(detail.json()["review_verdict"] == "pass")

    await eventually(reviewed, what="the review's conclusion to reach intake")
    await upload_all(intake, project)
    return await approve(intake, project, amount_fen)
