"""Nothing lost, nothing applied twice: outbox, inbox and dead letters against real NATS and databases."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

from httpx import AsyncClient
from sqlalchemy import func, select

from govit.devnats import EmbeddedNats
from services.funding.main import create_app as create_funding
from services.funding.settings import FundingSettings
from services.intake.main import create_app as create_intake
from services.intake.settings import IntakeSettings
from shared.auth import Role
from shared.bus import DEAD_LETTER_REASON, JetStreamBus, dead_letter_subject
from shared.contracts import encode, subject_for
from shared.contracts.intake import ProjectApproved, ProjectDeclared
from shared.db import inbox
from tests.conftest import bearer, eventually, on_the_stream, real_bus, running, unique
from tests.intake_flow import Clock, draft, register, submit, upload_all


async def send(bus: JetStreamBus, event: Any, *, event_id: str, msg_id: str | None = None) -> None:
    raw = encode(event, source="/govit/intake", event_id=event_id)
    await bus.publish(subject_for(bus.prefix, event), raw, {"Nats-Msg-Id": msg_id or event_id})


async def funding_settings(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> FundingSettings:
    database_url = await make_database("funding")
    return FundingSettings(database_url=database_url, nats_url=nats_url, var_dir=tmp_path, **isolation)


def declared(project_id: str, agency: str) -> ProjectDeclared:
    return ProjectDeclared(
        project_id=project_id,
        jurisdiction="zhonglou",
        agency=agency,
        title="网格化治理平台",
        kind="construction",
        amount_fen=80_000_000,
    )


async def test_an_event_delivered_twice_is_applied_once(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    app = create_funding(await funding_settings(make_database, nats_url, isolation, tmp_path))
    project_id, agency = unique("p"), unique("局")
    applicant = bearer(Role.APPLICANT, agency)
    async with real_bus(nats_url, isolation) as bus, running(app) as funding:
        await send(bus, declared(project_id, agency), event_id="declared-1")
        await eventually(lambda: _ok(funding, f"/projects/{project_id}", applicant))
        held = (
            await funding.post(
                f"/projects/{project_id}/disbursements",
                headers=applicant,
                json={"amount_fen": 1_000_000, "purpose": "首付"},
            )
        ).json()
        assert held["status"] == "held"

        # The same approval arrives twice (e.g. republished after the duplicate window).
        approval = ProjectApproved(
            project_id=project_id, jurisdiction="zhonglou", approved_amount_fen=80_000_000, plan_year=2027
        )
        await send(bus, approval, event_id="approved-1", msg_id="first-copy")
        await send(bus, approval, event_id="approved-1", msg_id="second-copy")
        consumed = app.state.runtime.metrics.consumed
        await eventually(lambda: consumed.labels("funding", "ack")._value.get() >= 3, what="three deliveries")

        async with app.state.runtime.new_uow() as uow:
            rows = await uow.session.scalar(
                select(func.count()).select_from(inbox).where(inbox.c.event_id == "approved-1")
            )
        assert rows == 1
        released_subject = f"{bus.prefix}.events.*.{project_id}.funding.disbursement_released.v1"
        await eventually(lambda: holds(bus, released_subject, 1), what="one release event")
        await asyncio.sleep(0.5)
        assert len(await on_the_stream(bus, released_subject)) == 1


async def test_with_nats_stopped_a_state_change_commits_and_its_event_arrives_after_nats_returns(
    make_database: Any, isolation: dict[str, str], tmp_path: Path
) -> None:
    nats = EmbeddedNats(tmp_path / "nats").start()
    try:
        common = {"nats_url": nats.url, "var_dir": tmp_path, **isolation}
        intake = create_intake(
            IntakeSettings(database_url=await make_database("intake"), **common), clock=Clock()
        )
        funding = create_funding(FundingSettings(database_url=await make_database("funding"), **common))
        agency = unique("局")
        applicant = bearer(Role.APPLICANT, agency)
        async with running(intake) as intake_client, running(funding) as funding_client:
            await register(intake_client, "xunyang", agency)
            project = await draft(
                intake_client, agency, "xunyang", title="停机期间申报的项目", kind="service"
            )
            await upload_all(intake_client, project, "declaration")
            nats.stop()
            await eventually(
                lambda: _status(intake_client, "/readyz", 503), what="intake to notice NATS is gone"
            )

            # The declaration commits although no event can be published now.
            response = await submit(intake_client, project)
            assert response.status_code == 200 and response.json()["status"] == "declared"
            project_id = project["id"]
            assert (await intake_client.get(f"/projects/{project_id}", headers=applicant)).status_code == 200
            await asyncio.sleep(1.5)
            assert not await _ok(funding_client, f"/projects/{project_id}", applicant)

            # NATS returns (same port, same store): the relay catches up and funding hears of it.
            nats.start()
            await eventually(
                lambda: _ok(funding_client, f"/projects/{project_id}", applicant),
                timeout=40,
                what="the event held in the outbox to arrive",
            )
            await eventually(lambda: _status(intake_client, "/readyz", 200), timeout=20)
    finally:
        nats.stop()


async def test_malformed_messages_land_in_the_dead_letter_subject_and_the_next_good_one_is_processed(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    app = create_funding(await funding_settings(make_database, nats_url, isolation, tmp_path))
    project_id, agency = unique("p"), unique("局")
    good = declared(project_id, agency)
    topic = subject_for(isolation["subject_prefix"], good)
    schema_invalid = json.loads(encode(good, source="/test"))
    schema_invalid["data"]["amount_fen"] = "一百万"
    unknown_type = json.loads(encode(good, source="/test"))
    unknown_type["type"] = "govit.intake.project_teleported.v1"
    unknown_version = json.loads(encode(good, source="/test"))
    unknown_version["type"] = "govit.intake.project_declared.v9"  # on the v1 subject
    oversized = json.loads(encode(good, source="/test"))
    oversized["data"]["title"] = "长" * 200_000  # ~600 KB: under NATS's limit, beyond any title
    bad = [
        b"\xff not even json",
        json.dumps(schema_invalid).encode(),
        json.dumps(unknown_type).encode(),
        json.dumps(unknown_version).encode(),
        json.dumps(oversized, ensure_ascii=False).encode(),
    ]

    async with real_bus(nats_url, isolation) as bus, running(app) as funding:
        for raw in bad:
            await bus.publish(topic, raw, {"Nats-Msg-Id": uuid.uuid4().hex})
        await send(bus, good, event_id="good-1")
        await eventually(
            lambda: _ok(funding, f"/projects/{project_id}", bearer(Role.FINANCE)),
            what="the good event after the bad ones",
        )
        dlq = dead_letter_subject(bus.prefix, "funding")
        await eventually(lambda: holds(bus, dlq, len(bad)), what="every poisoned event dead-lettered")
        parked = await on_the_stream(bus, dlq)
        assert sorted(m.data for m in parked) == sorted(bad)
        reasons = sorted(m.headers[DEAD_LETTER_REASON].split(":")[0] for m in parked)
        assert reasons == [
            "InvalidEventData",
            "InvalidEventData",
            "MalformedEnvelope",
            "UnknownEventType",
            "UnknownEventType",
        ]
        metrics = (await funding.get("/metrics")).text
        counted = [line for line in metrics.splitlines() if line.startswith("govit_events_consumed_total{")]
        assert any("deadletter" in line and float(line.rsplit(" ", 1)[1]) >= len(bad) for line in counted), (
            counted
        )


async def holds(bus: JetStreamBus, subject: str, n: int) -> bool:
    """The stream holds at least `n` messages under `subject`."""
    return len(await on_the_stream(bus, subject)) >= n


async def _ok(client: AsyncClient, path: str, headers: dict[str, str]) -> bool:
    return (await client.get(path, headers=headers)).status_code == 200


async def _status(client: AsyncClient, path: str, expected: int) -> bool:
    return (await client.get(path)).status_code == expected
