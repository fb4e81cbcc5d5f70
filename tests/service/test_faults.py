"""Under faults nothing is lost or doubled: NATS killed with -9 mid-stream, the consuming service
killed with -9 mid-batch; each held payment that should release does, exactly once."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from govit import launch
from govit.devnats import EmbeddedNats
from services.funding.main import create_app as create_funding
from services.funding.settings import FundingSettings
from shared.auth import Role
from shared.bus import JetStreamBus
from shared.contracts import decode, encode, subject_for
from shared.contracts.intake import ProjectApproved, ProjectDeclared
from shared.db import create_engine, inbox
from tests.conftest import bearer, eventually, on_the_stream, running, unique

PROJECTS = 12


async def publish_until_stored(bus: JetStreamBus, event: Any, event_id: str) -> None:
    """What an outbox relay does: publish with the event id as Nats-Msg-Id until the server stores it."""
    raw = encode(event, source="/govit/intake", event_id=event_id)
    for _ in range(300):
        try:
            await bus.publish(subject_for(bus.prefix, event), raw, {"Nats-Msg-Id": event_id})
            return
        except Exception:
            await asyncio.sleep(0.2)
    raise AssertionError("NATS did not come back")


async def releases(bus: JetStreamBus) -> Counter[str]:
    """How many release events the stream holds per disbursement."""
    found: Counter[str] = Counter()
    for message in await on_the_stream(bus, f"{bus.prefix}.events.*.*.funding.disbursement_released.v1"):
        found[decode(message.data).data.disbursement_id] += 1  # type: ignore[attr-defined]
    return found


async def declare_and_hold(bus: JetStreamBus, http: httpx.AsyncClient) -> list[tuple[str, str]]:
    """PROJECTS declared projects, each with a request held until its approval: (project, request)."""
    held = []
    for _ in range(PROJECTS):
        project, agency = unique("p"), unique("局")
        event = ProjectDeclared(
            project_id=project,
            jurisdiction="zhonglou",
            agency=agency,
            title="平台",
            kind="construction",
            amount_fen=80_000_000,
        )
        await publish_until_stored(bus, event, str(uuid.uuid4()))
        applicant = bearer(Role.APPLICANT, agency)

        async def known(project: str = project, applicant: dict[str, str] = applicant) -> bool:
            return (await http.get(f"/projects/{project}", headers=applicant)).status_code == 200

        await eventually(known, timeout=60, what="the declaration")
        response = await http.post(
            f"/projects/{project}/disbursements",
            headers=applicant,
            json={"amount_fen": 1_000_000, "purpose": "首付"},
        )
        assert response.status_code == 202, response.text
        held.append((project, response.json()["id"]))
    return held


async def all_released(http: httpx.AsyncClient, held: list[tuple[str, str]]) -> bool:
    for _, item in held:
        got = await http.get(f"/disbursements/{item}", headers=bearer(Role.FINANCE))
        if got.status_code != 200 or got.json()["status"] != "released":
            return False
    return True


def approval(project: str) -> ProjectApproved:
    return ProjectApproved(
        project_id=project, jurisdiction="zhonglou", approved_amount_fen=80_000_000, plan_year=2027
    )


async def test_nats_killed_mid_stream_loses_nothing_and_releases_each_payment_once(
    make_database: Any, isolation: dict[str, str], tmp_path: Path
) -> None:
    nats = EmbeddedNats(tmp_path / "nats").start()
    try:
        settings = FundingSettings(
            database_url=await make_database("funding"),
            nats_url=nats.url,
            var_dir=tmp_path,
            environment="test",
            **isolation,
        )
        bus = JetStreamBus(nats.url, stream=isolation["stream"], prefix=isolation["subject_prefix"])
        await bus.connect(timeout=10)
        await bus.ensure_stream()
        async with running(create_funding(settings)) as http:
            held = await declare_and_hold(bus, http)
            approvals = {project: str(uuid.uuid4()) for project, _ in held}
            for n, (project, event_id) in enumerate(approvals.items()):
                if n == PROJECTS // 2:
                    assert nats.process is not None
                    nats.process.send_signal(signal.SIGKILL)  # no goodbye, no flush beyond fsync
                    nats.process.wait(10)
                    nats = EmbeddedNats(tmp_path / "nats", port=nats.port).start()
                await publish_until_stored(bus, approval(project), event_id)
            await eventually(lambda: all_released(http, held), timeout=90, what="every held payment released")

            async def published() -> Counter[str] | None:
                # The relay publishes after the commit, retrying while NATS was away: wait for it.
                found = await releases(bus)
                return found if all(found[item] for _, item in held) else None

            counted = await eventually(published, timeout=60, what="every release event on the stream")
            assert {item: counted[item] for _, item in held} == {item: 1 for _, item in held}
            engine = create_engine(settings.db_url)
            try:
                async with engine.connect() as conn:
                    handled = await conn.scalar(
                        select(func.count())
                        .select_from(inbox)
                        .where(inbox.c.event_id.in_(list(approvals.values())))
                    )
            finally:
                await engine.dispose()
            assert handled == PROJECTS
        await bus.close()
    finally:
        nats.stop()


async def test_the_consumer_killed_mid_batch_applies_each_event_once_after_restart(
    nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")} | {
        "GOVIT_ENVIRONMENT": "test",
        "GOVIT_NATS_URL": nats_url,
        "GOVIT_STREAM": isolation["stream"],
        "GOVIT_SUBJECT_PREFIX": isolation["subject_prefix"],
        "GOVIT_FUNDING_DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path / 'funding.db'}",
        "GOVIT_VAR_DIR": str(tmp_path),
        "GOVIT_LOG_LEVEL": "WARNING",
    }
    if "GOVIT_CONSUMER_BATCH" in os.environ:  # a run may ask for another batch size
        env["GOVIT_CONSUMER_BATCH"] = os.environ["GOVIT_CONSUMER_BATCH"]

    log = tmp_path / "funding.log"
    bus = JetStreamBus(nats_url, stream=isolation["stream"], prefix=isolation["subject_prefix"])
    await bus.connect(timeout=10)
    await bus.ensure_stream()
    funding = await launch.start("funding", env, log)
    try:
        async with httpx.AsyncClient(base_url=funding.url, timeout=30) as http:
            held = await declare_and_hold(bus, http)
            for project, _ in held:
                await publish_until_stored(bus, approval(project), str(uuid.uuid4()))

            async def some_released() -> bool:
                return sum((await releases(bus)).values()) >= 2

            await eventually(some_released, timeout=60, what="the first releases")
            funding.kill()  # in the middle of the batch
            port = int(funding.url.rsplit(":", 1)[1])
            funding = launch.spawn("funding", env, log, port)  # back where it was
            await launch.until_ready(funding)
            await eventually(lambda: all_released(http, held), timeout=90, what="every held payment released")
            await asyncio.sleep(1)  # let the relay publish anything still pending
            counted = await releases(bus)
            assert {item: counted[item] for _, item in held} == {item: 1 for _, item in held}
    finally:
        await asyncio.to_thread(funding.stop)
        with contextlib.suppress(Exception):
            await bus.nc.jetstream().delete_stream(isolation["stream"])
        await bus.close()


async def test_with_the_database_away_the_service_is_not_ready_refuses_writes_with_503_and_recovers(
    postgres_admin_url: str | None, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    import asyncpg

    from tests.servers import database_url, missing

    if postgres_admin_url is None:
        missing("PostgreSQL (GOVIT_TEST_POSTGRES_URL)")
    assert postgres_admin_url is not None
    admin = postgres_admin_url.replace("postgresql+asyncpg://", "postgresql://", 1)
    name = unique("govit_away_")
    conn = await asyncpg.connect(admin)
    await conn.execute(f'CREATE DATABASE "{name}"')
    settings = FundingSettings(
        database_url=database_url(postgres_admin_url, name),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    finance = bearer(Role.FINANCE)
    try:
        bus = JetStreamBus(nats_url, stream=isolation["stream"], prefix=isolation["subject_prefix"])
        await bus.connect(timeout=10)
        await bus.ensure_stream()
        app = create_funding(settings)
        async with (
            running(app),
            # As a real server would: the 503 is the answer, not an exception raised into the client.
            httpx.AsyncClient(
                transport=httpx.ASGITransport(app=app, raise_app_exceptions=False), base_url="http://t"
            ) as http,
        ):
            await conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await conn.execute(
                f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
            )

            async def not_ready() -> bool:
                return (await http.get("/readyz")).status_code == 503

            await eventually(not_ready, what="funding to notice the database is away")
            refused = await http.post(
                "/projects/p1/disbursements", headers=finance, json={"amount_fen": 1, "purpose": "测试"}
            )
            assert refused.status_code == 503, refused.text
            assert refused.headers["content-type"].startswith("application/problem+json")
            assert refused.json()["code"] == "service_unavailable"
            # The consumer waits too: an event arriving now is applied once the database is back.
            project = unique("p")
            await publish_until_stored(
                bus,
                ProjectDeclared(
                    project_id=project,
                    jurisdiction="zhonglou",
                    agency="局",
                    title="平台",
                    kind="construction",
                    amount_fen=100,
                ),
                str(uuid.uuid4()),
            )
            await asyncio.sleep(1)
            await conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')

            async def back() -> bool:
                return (await http.get(f"/projects/{project}", headers=finance)).status_code == 200

            await eventually(back, timeout=60, what="the service to recover by itself")
            assert (await http.get("/readyz")).status_code == 200
        with contextlib.suppress(Exception):
            await bus.nc.jetstream().delete_stream(isolation["stream"])
        await bus.close()
    finally:
        await conn.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.close()


async def test_many_concurrent_requests_release_once_and_never_exceed_the_budget(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    settings = FundingSettings(
        database_url=await make_database("funding"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
    )
    bus = JetStreamBus(nats_url, stream=isolation["stream"], prefix=isolation["subject_prefix"])
    await bus.connect(timeout=10)
    await bus.ensure_stream()
    try:
        async with running(create_funding(settings)) as http:
            project, agency = unique("p"), unique("局")
            applicant = bearer(Role.APPLICANT, agency)
            declared = ProjectDeclared(
                project_id=project,
                jurisdiction="zhonglou",
                agency=agency,
                title="平台",
                kind="construction",
                amount_fen=10_000_000,
            )
            await publish_until_stored(bus, declared, str(uuid.uuid4()))
            approved = ProjectApproved(
                project_id=project, jurisdiction="zhonglou", approved_amount_fen=10_000_000, plan_year=2027
            )
            await publish_until_stored(bus, approved, str(uuid.uuid4()))

            async def open_() -> bool:
                gates = await http.get(f"/projects/{project}/gates", headers=applicant)
                return (
                    gates.status_code == 200
                    and next(g for g in gates.json() if g["gate"] == "approval")["open"]
                )

            await eventually(open_, what="the approval gate")
            key = {"Idempotency-Key": unique("k")}
            same = await asyncio.gather(
                *(
                    http.post(
                        f"/projects/{project}/disbursements",
                        headers={**applicant, **key},
                        json={"amount_fen": 1_000_000, "purpose": "首付"},
                    )
                    for _ in range(30)
                )
            )
            assert {r.status_code for r in same} <= {200, 201}, {r.text for r in same if r.status_code >= 300}
            assert len({r.json()["id"] for r in same}) == 1
            many = await asyncio.gather(
                *(
                    http.post(
                        f"/projects/{project}/disbursements",
                        headers=applicant,
                        json={"amount_fen": 1_000_000, "purpose": f"第{n}笔"},
                    )
                    for n in range(30)
                )
            )
            codes = Counter(r.status_code for r in many)
            assert codes == {201: 9, 409: 21}, codes  # 1 + 9 payments of 1/10 fill the budget, no more
            listed = await http.get(
                "/disbursements",
                params={"project_id": project, "status": "released", "limit": 200},
                headers=applicant,
            )
            assert sum(d["amount_fen"] for d in listed.json()["items"]) == 10_000_000
    finally:
        with contextlib.suppress(Exception):
            await bus.nc.jetstream().delete_stream(isolation["stream"])
        await bus.close()
