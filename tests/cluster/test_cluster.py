"""The suite on a three-server JetStream cluster (R3), on PostgreSQL, with two replicas of funding
and one of each other service, while a backlog of gate events flows and held payments wait on
them: a server taken away (kill -9 of the stream's leader, a rolling restart), or a funding
replica killed mid-batch. Afterwards no acknowledged event is lost, none is handled twice, every
held payment is released once, and the outboxes are drained.

Each run prints its figures (events in flight, time to recover, redeliveries): docs/BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from nats.js.api import ConsumerInfo

from govit.devnats import EmbeddedCluster
from govit.launch import Launched
from shared.auth import Role
from shared.bus import JetStreamBus
from shared.consume import suite_source
from shared.contracts import Event, decode, encode, subject_for
from shared.contracts.intake import ProjectApproved, ProjectDeclared, ProjectIncludedInPlan
from tests.conftest import bearer, eventually, on_the_stream, unique
from tests.e2e.conftest import SERVICES, create_databases, drop_databases
from tests.processes import serving

pytestmark = [
    pytest.mark.slow,
    pytest.mark.services("intake", "review", "procurement", "acceptance", "funding"),
]

J = "xunyang"
#: each a held payment its approval releases; `make bench` runs these with more (bench/cluster.py)
PROJECTS = int(os.environ.get("GOVIT_CLUSTER_PROJECTS", "40"))
AGENCY = "区数据局"
CLERK = bearer(Role.APPLICANT, AGENCY, jurisdictions=[J])
FINANCE = bearer(Role.FINANCE, jurisdictions=[J])
OTHERS = ("intake", "review", "procurement", "acceptance")
FIGURES = "cluster figures: "


@dataclass
class Run:
    cluster: EmbeddedCluster
    bus: JetStreamBus
    served: list[Launched]
    databases: dict[str, str]
    figures: dict[str, Any] = field(default_factory=dict)
    #: the approvals wait while this many projects' are out (a fault holding them back); None: flow
    hold_at: int | None = None

    @property
    def funding(self) -> list[Launched]:
        return [s for s in self.served if s.name == "funding"]

    def alive_funding(self) -> Launched:
        return next(s for s in self.funding if s.alive)


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[EmbeddedCluster]:
    with EmbeddedCluster(tmp_path / "nats") as started:
        yield started


@contextlib.asynccontextmanager
async def suite_on(
    cluster: EmbeddedCluster, admin_url: str | None, tmp_path: Path, **settings: str
) -> AsyncIterator[Run]:
    tag = unique("cl")
    databases = await create_databases("postgresql", admin_url, tmp_path, tag, SERVICES)
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")} | {
        "GOVIT_ENVIRONMENT": "test",
        "GOVIT_NATS_URL": cluster.url,
        "GOVIT_STREAM": tag.upper(),
        "GOVIT_SUBJECT_PREFIX": tag,
        "GOVIT_STREAM_REPLICAS": "3",
        "GOVIT_VAR_DIR": str(tmp_path / "var"),
        "GOVIT_LOG_LEVEL": "WARNING",
        **{f"GOVIT_{name.upper()}_DATABASE_URL": url for name, url in databases.items()},
        **settings,
    }
    bus = JetStreamBus(cluster.url, stream=tag.upper(), prefix=tag, replicas=3)
    await bus.connect(timeout=10)
    await bus.ensure_stream()
    try:
        async with serving(env, tmp_path, [*OTHERS, "funding", "funding"]) as served:
            yield Run(cluster, bus, served, databases)
    finally:
        await bus.close()
        await drop_databases(admin_url, tag, SERVICES)


async def publish(bus: JetStreamBus, event: Event) -> float:
    """Publish until the stream acknowledges it (the same message id each time: stored once);
    how long it took."""
    event_id, start = str(uuid.uuid4()), time.monotonic()
    raw = encode(event, source=suite_source(event.type), event_id=event_id)
    while True:
        try:
            await bus.publish(subject_for(bus.prefix, event), raw, {"Nats-Msg-Id": event_id})
            return time.monotonic() - start
        except Exception:  # no leader yet, not connected, timed out: the publisher tries again
            if time.monotonic() - start > 120:
                raise
            await asyncio.sleep(0.2)


async def held_payments(run: Run) -> list[str]:
    """PROJECTS projects declared, each with a preparatory payment held until its approval."""
    projects = [unique("p") for _ in range(PROJECTS)]
    for project in projects:
        await publish(
            run.bus,
            ProjectDeclared(
                project_id=project,
                jurisdiction=J,
                agency=AGENCY,
                title="集群演练项目",
                kind="construction",
                amount_fen=100_000_000,
                plan_year=2027,
            ),
        )
    async with httpx.AsyncClient(timeout=10) as http:

        async def known() -> bool:
            answers = await asyncio.gather(
                *(http.get(f"{s.url}/projects/{p}", headers=FINANCE) for s in run.funding for p in projects)
            )
            return all(a.status_code == 200 for a in answers)

        await eventually(known, timeout=60, interval=0.5, what="funding to know every project")
        for n, project in enumerate(projects):
            asked = await http.post(
                f"{run.funding[n % 2].url}/projects/{project}/disbursements",
                headers=CLERK | {"Idempotency-Key": unique("k")},
                json={"amount_fen": 5_000_000, "purpose": "前期工作经费", "kind": "preparatory"},
            )
            assert asked.status_code == 202, asked.text  # held: not yet approved
    return projects


async def approvals(run: Run, projects: list[str], published: list[float]) -> None:
    """Each project's plan and approval, one after another, each until the stream has it; for each
    project, the longer of its two publishes goes to `published`."""
    for project in projects:
        await eventually(
            lambda: run.hold_at is None or len(published) < run.hold_at,
            timeout=120,
            interval=0.01,
            what="the fault to let the approvals go on",
        )
        plan = await publish(
            run.bus,
            ProjectIncludedInPlan(
                project_id=project, jurisdiction=J, plan_year=2027, rank=1, plan_document="浔计〔2027〕1号"
            ),
        )
        approval = await publish(
            run.bus,
            ProjectApproved(
                project_id=project, jurisdiction=J, approved_amount_fen=100_000_000, plan_year=2027
            ),
        )
        published.append(max(plan, approval))


async def flow(run: Run, fault: Callable[[Run, list[float]], Awaitable[None]], name: str) -> None:
    """The held payments, then their approvals flowing while `fault` happens; then everything checked."""
    projects = await held_payments(run)
    published: list[float] = []
    start = time.monotonic()
    await asyncio.gather(approvals(run, projects, published), fault(run, published))
    await settled(run, projects, start)
    run.figures |= {
        "events": 2 * PROJECTS,
        "slowest publish s": round(max(published), 2),
    }
    # the figures of the run: bench/cluster.py reads them into docs/BENCHMARKS.md
    print(f"\n{FIGURES}{json.dumps({'run': name, **run.figures}, ensure_ascii=False)}")


async def settled(run: Run, projects: list[str], start: float | None = None) -> None:
    """Every payment released, every consumer caught up and every outbox drained; then each
    release and each approval counted once. `start`: when the approvals began (for the figures)."""
    begun = time.monotonic() if start is None else start
    js = run.bus.nc.jetstream()
    async with httpx.AsyncClient(timeout=10) as http:

        async def released() -> bool:
            found = await http.get(
                f"{run.alive_funding().url}/disbursements",
                params={"status": "released", "jurisdiction": J, "limit": 200},
                headers=FINANCE,
            )
            return found.status_code == 200 and found.json()["total"] == PROJECTS

        await eventually(released, timeout=180, interval=0.5, what="every held payment released")
        run.figures["all released after s"] = round(time.monotonic() - begun, 1)

    async def drained() -> bool:
        try:
            consumers = [await _consumer(run, name) for name in (*OTHERS, "funding")]
        except Exception:  # a consumer's leader being elected after the fault: ask again
            return False
        unpublished = 0
        for url in run.databases.values():
            conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://", 1))
            try:
                unpublished += await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            finally:
                await conn.close()
        return unpublished == 0 and all(c.num_pending == 0 and c.num_ack_pending == 0 for c in consumers)

    await eventually(
        drained, timeout=120, interval=0.5, what="every consumer caught up and every outbox drained"
    )
    # events whose acknowledgement was lost with a server come again after the ack wait
    run.figures["all caught up after s"] = round(time.monotonic() - begun, 1)
    funding = await js.consumer_info(run.bus.stream, "funding")

    # Each payment released once: one release on the stream per payment, and the money once.
    releases = await on_the_stream(run.bus, f"{run.bus.prefix}.events.{J}.*.funding.disbursement_released.v1")
    released_ids = [decode(m.data).data.model_dump()["disbursement_id"] for m in releases]
    assert len(released_ids) == PROJECTS and len(set(released_ids)) == PROJECTS, released_ids
    conn = await asyncpg.connect(
        run.databases["funding"].replace("postgresql+asyncpg://", "postgresql://", 1)
    )
    try:
        handled = await conn.fetchval(
            "SELECT count(*) FROM inbox WHERE consumer = 'funding'"
            " AND event_type = 'govit.intake.project_approved.v1'"
        )
        # SQLAlchemy's Enum stores the member's name
        paid = await conn.fetchval("SELECT count(*) FROM disbursements WHERE status = 'RELEASED'")
        kinds = await conn.fetch("SELECT consumer, event_type, count(*) FROM inbox GROUP BY 1, 2")
        every = await conn.fetchval("SELECT count(*) FROM inbox WHERE consumer = 'funding'")
    finally:
        await conn.close()
    assert handled == PROJECTS, kinds  # each approval handled once (the inbox keeps one row an event)
    assert paid == PROJECTS
    # Deliveries beyond one an event: the broker's count of deliveries less the events handled.
    run.figures["funding deliveries again"] = funding.delivered.consumer_seq - every


async def _leader(run: Run) -> int:
    """The index of the server leading the stream, once one does (asked again while the cluster
    elects one, or while this client moves to another server)."""

    async def asked() -> str | None:
        try:
            info = await asyncio.wait_for(run.bus.nc.jetstream().stream_info(run.bus.stream), 2)
        except Exception:  # no leader yet, or this client reconnecting
            return None
        return info.cluster.leader if info.cluster is not None else None

    leader: str = await eventually(asked, timeout=60, interval=0.2, what="a leader of the stream")
    return int(leader.rsplit("-", 1)[1]) - 1


async def _when_a_third_is_out(published: list[float]) -> None:
    await eventually(
        lambda: len(published) >= PROJECTS // 3, timeout=120, what="a third of the approvals out"
    )


async def test_the_streams_leader_killed_and_restarted_loses_nothing_and_repeats_nothing(
    cluster: EmbeddedCluster, postgres_admin_url: str | None, tmp_path: Path
) -> None:
    async def kill_the_leader(run: Run, published: list[float]) -> None:
        await _when_a_third_is_out(published)
        leader = await _leader(run)
        killed, before = time.monotonic(), len(published)
        run.cluster.kill(leader)
        # the next approval the stream acknowledges
        await eventually(lambda: len(published) > before, timeout=120, what="the stream writable again")
        run.figures["stream writable again after s"] = round(time.monotonic() - killed, 2)
        run.figures["new leader"] = (await _leader(run)) != leader
        await asyncio.to_thread(run.cluster.restart, leader)
        run.figures["killed server back after s"] = round(time.monotonic() - killed, 1)

    async with suite_on(cluster, postgres_admin_url, tmp_path) as run:
        await flow(run, kill_the_leader, "leader")
        assert run.figures["new leader"]


async def test_a_rolling_restart_of_the_three_servers_under_load_loses_nothing(
    cluster: EmbeddedCluster, postgres_admin_url: str | None, tmp_path: Path
) -> None:
    async def one_by_one(run: Run, published: list[float]) -> None:
        await _when_a_third_is_out(published)
        start = time.monotonic()
        for n in range(len(run.cluster.servers)):
            await asyncio.to_thread(run.cluster.servers[n].stop)  # a graceful stop, as an upgrade does
            await asyncio.to_thread(run.cluster.restart, n)
        run.figures["rolling restart s"] = round(time.monotonic() - start, 1)

    async with suite_on(cluster, postgres_admin_url, tmp_path) as run:
        await flow(run, one_by_one, "rolling")


async def _consumer(run: Run, durable: str) -> ConsumerInfo:
    """A durable consumer's state, asked of the cluster for at most 2 s."""
    return await asyncio.wait_for(run.bus.nc.jetstream().consumer_info(run.bus.stream, durable), 2)


async def _both_waiting(run: Run) -> bool:
    """Funding's consumer has nothing unanswered and a pull request open from each replica."""
    info = await _consumer(run, "funding")
    return info.num_ack_pending == 0 and (info.num_waiting or 0) >= 2


async def _held_by_the_frozen(run: Run) -> int:
    """The deliveries funding's consumer still has unanswered 2 s on (within the 5 s ack wait),
    when one delivered before those 2 s is among them: the live replica answers its own well
    before, so these are the frozen replica's. 0 otherwise."""
    first = await _consumer(run, "funding")
    pending = [first.num_ack_pending]
    for _ in range(4):
        await asyncio.sleep(0.5)
        last = await _consumer(run, "funding")
        pending.append(last.num_ack_pending)
    # the ack floor: every delivery up to it answered; one delivered before the 2 s is not
    return min(pending) if last.ack_floor.stream_seq < first.delivered.stream_seq else 0


async def test_a_funding_replica_killed_mid_batch_leaves_its_events_to_the_other_once(
    cluster: EmbeddedCluster, postgres_admin_url: str | None, tmp_path: Path
) -> None:
    async def kill_a_replica(run: Run, published: list[float]) -> None:
        await _when_a_third_is_out(published)
        doomed, burst = run.funding[1], max(PROJECTS // 8, 3)
        # Frozen while both replicas wait for events, then a few approvals: those the frozen one's
        # open request takes stay unanswered, and it is killed with them. Took none (its request
        # had just ended): it is let go, and frozen again before the next few.
        while len(published) + burst <= PROJECTS:
            run.hold_at = len(published)
            await eventually(lambda: _both_waiting(run), timeout=30, what="both funding replicas waiting")
            doomed.proc.send_signal(signal.SIGSTOP)
            run.hold_at = len(published) + burst
            await eventually(lambda: len(published) >= (run.hold_at or 0), timeout=60, what="a few approvals")
            if held := await _held_by_the_frozen(run):
                run.figures["unanswered when killed"] = held
                run.hold_at = None
                doomed.kill()
                return
            doomed.proc.send_signal(signal.SIGCONT)
        run.hold_at = None
        pytest.fail("the frozen funding replica never held a delivery")

    async with suite_on(cluster, postgres_admin_url, tmp_path, GOVIT_ACK_WAIT_SECONDS="5") as run:
        await flow(run, kill_a_replica, "replica")
        # what it held went to the other replica after the ack wait, and was handled there once
        assert run.figures["unanswered when killed"] > 0 and run.figures["funding deliveries again"] > 0


async def test_the_services_follow_the_cluster_and_are_unready_only_while_no_server_answers(
    cluster: EmbeddedCluster, postgres_admin_url: str | None, tmp_path: Path
) -> None:
    async with suite_on(cluster, postgres_admin_url, tmp_path) as run, httpx.AsyncClient(timeout=5) as http:
        funding = run.funding[0].url

        async def ready() -> bool:
            return (await http.get(f"{funding}/readyz")).status_code == 200

        # One server away, then another: the services reconnect to whichever is up.
        for n in (0, 1):
            await asyncio.to_thread(run.cluster.kill, n)
            await eventually(
                ready, timeout=20, interval=0.2, what=f"funding ready with {n + 1} server(s) down"
            )
        await asyncio.to_thread(run.cluster.kill, 2)

        async def unready() -> bool:
            return not await ready()

        await eventually(unready, timeout=30, interval=0.2, what="funding unready with no server up")
        for n in range(3):
            run.cluster.servers[n].start()
        await asyncio.to_thread(run.cluster.wait_healthy)
        await eventually(ready, timeout=30, interval=0.2, what="funding ready again")
        # And the stream takes events again: a payment held, its approval, the money released.
        projects = await held_payments(run)
        await approvals(run, projects, [])
        await settled(run, projects)
