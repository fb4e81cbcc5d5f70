"""Benchmarks of the whole suite: the five services as separate processes on one NATS stream.

- `lifecycles`: full project lifecycles per second, driven through every service's HTTP API by
  the demo driver (govit.demo), one project per jurisdiction per round, with each service's
  resident memory idle after start and after the load;
- `consumer_rates` (and `consumer_runs`, the same with its details): events per second each
  service's consumer handles, its database writes included, from a backlog waiting on the stream.

Every run has its own stream and subject prefix, its own SQLite databases, logs and clock file
under var/bench/<run>/; the directory is removed when the run succeeds and kept (for its logs)
when it fails. Try it alone with `python bench/suite.py`.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import asyncpg
import httpx
import nats
from nats.aio.client import Client as NATS
from prometheus_client.parser import text_string_to_metric_families
from rich.console import Console
from rich.status import Status
from rich.table import Table
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from govit import launch
from govit.demo import Demo, free_start, run_demo
from govit.demo.watch import EventWatch
from govit.devnats import EmbeddedNats
from shared.auth import TokenIssuer
from shared.bus import JetStreamBus
from shared.consume import suite_source
from shared.contracts import Event, encode, subject_for
from shared.contracts.acceptance import SecurityAttested
from shared.contracts.intake import ProjectApproved, ProjectDeclared, ProjectScreened
from shared.contracts.procurement import ContractFiled, Milestone
from shared.policy import PolicyRegistry, load_registry
from shared.policy.pack import JURISDICTIONS
from shared.settings import GovitSettings

ROOT = Path(__file__).resolve().parents[1]
VAR = ROOT / "var" / "bench"
SERVICES: tuple[str, ...] = ("intake", "review", "procurement", "acceptance", "funding")


def rss_mib(pid: int) -> float:
    """Resident set (VmRSS) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def _progress(status: Status | None, text: str) -> Iterator[Callable[[str], None]]:
    """Progress lines on the caller's status, or on a status of our own when none is given."""
    if status is not None:
        status.update(text)
        yield status.update
        return
    with Console(stderr=True).status(text) as local:
        yield local.update


# -- the services as processes ---------------------------------------------------------------------


class Processes:
    """Services of one run as separate `govit.cli serve` processes.

    One stream and subject prefix (the run's tag), one SQLite database per service, with `clock` a
    clock file they share (the walks move time through it), and a log per service, all under
    var/bench/<tag>/.
    """

    def __init__(
        self,
        url: str,
        tag: str,
        names: Sequence[str],
        settings: GovitSettings,
        databases: dict[str, str] | None = None,
        *,
        clock: bool = False,
    ) -> None:
        self.tag = tag
        self.names = tuple(names)
        self.dir = VAR / tag
        self.dir.mkdir(parents=True, exist_ok=True)
        self.clock_file = self.dir / "now"
        # The services' settings are the bench's, but for the batch size a run may compare.
        kept = {"GOVIT_CONSUMER_BATCH"}
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_") or k in kept} | {
            "GOVIT_ENVIRONMENT": "test",
            "GOVIT_NATS_URL": url,
            "GOVIT_STREAM": tag.upper(),
            "GOVIT_SUBJECT_PREFIX": tag,
            "GOVIT_VAR_DIR": str(self.dir / "var"),
            "GOVIT_LOG_LEVEL": "WARNING",
            # the tokens this process issues are the ones the services verify
            "GOVIT_JWT_SECRET": settings.jwt_secret.get_secret_value(),
            "GOVIT_JWT_ISSUER": settings.jwt_issuer,
            "GOVIT_JWT_AUDIENCE": settings.jwt_audience,
        }
        if clock:  # the walks move time through it; the other runs keep real time, as in production
            self.env["GOVIT_CLOCK_FILE"] = str(self.clock_file)
        for name in self.names:
            self.env[f"GOVIT_{name.upper()}_DATABASE_URL"] = (databases or {}).get(
                name, f"sqlite+aiosqlite:///{self.database(name)}"
            )
        self.urls: dict[str, str] = {}  # a process's, once it is ready (its port is a free one)
        self.procs: dict[str, launch.Launched] = {}
        # Set to count a process's Python calls: it then runs under bench.profiled, writing here.
        self.profiles: Path | None = None

    def database(self, name: str) -> Path:
        return self.dir / f"{name}.db"

    def log(self, name: str) -> Path:
        return self.dir / f"{name}.log"

    def tail(self, name: str, chars: int = 3000) -> str:
        with contextlib.suppress(OSError):
            return self.log(name).read_text(errors="replace")[-chars:]
        return ""

    def _command(self, name: str) -> list[str] | None:
        """The interpreter's arguments for the process `name` ("funding~2": the second of funding):
        None, `govit serve`'s own, unless counted. `govit serve` execs `python -m govit.serve`;
        counted, the process runs that module itself under bench.profiled."""
        if self.profiles is None:
            return None
        service = name.split("~")[0]
        return ["-m", "bench.profiled", str(self.profiles / f"{name}.prof"), "-m", "govit.serve", service]

    async def replica(self, name: str) -> str:
        """One more process of the service `name`, on its database and its durable consumer, ready;
        its key (`name~2`, `name~3`, …)."""
        key = f"{name}~{sum(1 for k in self.procs if k.split('~')[0] == name) + 1}"
        await self.start(key)
        return key

    async def start(self, name: str) -> None:
        """Start and wait for one process (`funding~2`: a replica), on a free port (another, when one
        was taken meanwhile)."""
        service = name.split("~")[0]
        launched = await launch.start(
            service, self.env, self.log(name), command=self._command(name), cwd=ROOT
        )
        self.procs[name], self.urls[name] = launched, launched.url
        if name == service:
            self.env[f"GOVIT_{name.upper()}_PORT"] = launched.url.rsplit(":", 1)[1]

    async def start_all(self) -> None:
        """Every service at once; if one does not start, those that did are stopped."""
        started = await asyncio.gather(*(self.start(name) for name in self.names), return_exceptions=True)
        if errors := [error for error in started if isinstance(error, BaseException)]:
            await self.stop()
            raise errors[0]

    def rss(self, name: str) -> float:
        return rss_mib(self.procs[name].proc.pid)

    def _stop(self) -> None:
        launch.stop_all(list(self.procs.values()), grace=30)

    async def stop(self) -> None:
        await asyncio.to_thread(self._stop)

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


class Stream:
    """The run's stream (configured as the services configure it) and a publisher onto it."""

    def __init__(self, url: str, tag: str) -> None:
        self.url = url
        self.name = tag.upper()
        self.prefix = tag
        self.config = JetStreamBus(url, stream=self.name, prefix=tag).stream_config()
        self._nc: NATS | None = None

    async def open(self) -> None:
        self._nc = await nats.connect(self.url, name="govit-bench", connect_timeout=5)
        await self._nc.jetstream().add_stream(self.config)

    @property
    def nc(self) -> NATS:
        assert self._nc is not None, "open() first"
        return self._nc

    async def publish(self, event: Event) -> None:
        """As the services' relays publish: the CloudEvents envelope, its id as Nats-Msg-Id."""
        assert self._nc is not None
        event_id = str(uuid.uuid4())
        await self._nc.jetstream().publish(
            subject_for(self.prefix, event),
            encode(event, source=suite_source(event.type), event_id=event_id),
            headers={"Nats-Msg-Id": event_id},
            timeout=5,
        )

    async def drop(self) -> None:
        """Delete the stream (the services' consumers with it) and disconnect."""
        if self._nc is None:
            return
        with contextlib.suppress(Exception):
            await self._nc.jetstream().delete_stream(self.name)
        await self._nc.close()


@contextlib.asynccontextmanager
async def postgres_databases(admin_url: str, tag: str, names: Sequence[str]) -> AsyncIterator[dict[str, str]]:
    """A fresh PostgreSQL database per service (on the server of `admin_url`), dropped afterwards."""
    plain = admin_url.replace("postgresql+asyncpg://", "postgresql://")
    created = {name: f"bench_{tag}_{name}" for name in names}
    conn = await asyncpg.connect(plain)
    try:
        for db in created.values():
            await conn.execute(f'CREATE DATABASE "{db}"')
    finally:
        await conn.close()
    try:
        yield {name: admin_url.rsplit("/", 1)[0] + f"/{db}" for name, db in created.items()}
    finally:
        conn = await asyncpg.connect(plain)
        try:
            for db in created.values():
                await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        finally:
            await conn.close()


@contextlib.asynccontextmanager
async def services_on_a_stream(
    url: str,
    prefix: str,
    names: Sequence[str],
    settings: GovitSettings,
    *,
    postgres: str | None = None,
    clock: bool = False,
) -> AsyncIterator[tuple[Processes, Stream]]:
    """A fresh stream (open) and the services' processes (not started yet: the caller may publish
    first), on SQLite files or, given a PostgreSQL admin URL, on fresh databases of that server.
    Both are taken down afterwards; the logs are kept, and named, only when it failed."""
    tag = f"{prefix}{uuid.uuid4().hex[:8]}"
    async with contextlib.AsyncExitStack() as stack:
        databases = (
            await stack.enter_async_context(postgres_databases(postgres, tag, names)) if postgres else None
        )
        processes, stream = Processes(url, tag, names, settings, databases, clock=clock), Stream(url, tag)
        async with _running(processes, stream) as both:
            yield both


@contextlib.asynccontextmanager
async def _running(processes: Processes, stream: Stream) -> AsyncIterator[tuple[Processes, Stream]]:
    failed = False
    try:
        await stream.open()
        yield processes, stream
    except Exception as exc:
        failed = True
        exc.add_note(f"service logs kept in {processes.dir}")
        raise
    finally:
        await processes.stop()
        await stream.drop()
        if not failed:
            processes.remove()


# -- full lifecycles through the HTTP APIs -----------------------------------------------------------


@dataclass(frozen=True)
class LifecycleResult:
    rounds: int
    lifecycles: int
    seconds: float  # wall time of all rounds
    per_second: float  # lifecycles per second
    mean_seconds: dict[str, float]  # per jurisdiction, one lifecycle
    rss_idle_mib: dict[str, float]  # per service, right after it was ready
    rss_loaded_mib: dict[str, float]  # per service, right after the last round


def _seed_experts(urls: dict[str, str], issuer: TokenIssuer, policy: PolicyRegistry, quiet: Console) -> None:
    demo = Demo(urls, issuer, policy, None, quiet)
    try:
        demo.pools(JURISDICTIONS)
    finally:
        demo.client.close()


@dataclass(frozen=True)
class Walkable:
    """A suite the walks run through: its processes, the watch on its events, the roles' tokens."""

    procs: Processes
    watch: EventWatch
    issuer: TokenIssuer
    policy: PolicyRegistry


@contextlib.asynccontextmanager
async def _walkable(url: str, prefix: str, settings: GovitSettings) -> AsyncIterator[Walkable]:
    """The five services started on a stream of their own, their expert pools set up (before the
    clock starts), and a watch on their events for the walks to wait on."""
    issuer, policy = TokenIssuer(settings), load_registry(settings.policy_dir)
    async with services_on_a_stream(url, prefix, SERVICES, settings, clock=True) as (procs, stream):
        await procs.start_all()
        await asyncio.to_thread(_seed_experts, procs.urls, issuer, policy, Console(quiet=True))
        watch = EventWatch(url, stream.prefix).start()
        try:
            yield Walkable(procs, watch, issuer, policy)
        finally:
            await asyncio.to_thread(watch.close)


async def _walk_rounds(
    suite: Walkable, rounds: int, walks: dict[str, list[float]], say: Callable[[str], None] = lambda _: None
) -> None:
    """`rounds` rounds of one walk per jurisdiction, one after another, each round on the next free
    plan years (free_start); every walk's seconds added to `walks`."""
    quiet = Console(quiet=True)  # the demo narrates every step; not here
    urls, first = suite.procs.urls, date.today().year
    for round_ in range(rounds):
        start = await asyncio.to_thread(free_start, urls, suite.issuer, JURISDICTIONS, first)
        first = start.year + 1
        for j in JURISDICTIONS:
            say(f"lifecycles: round {round_ + 1}/{rounds}, {j} (from {start}) ...")
            walk = time.perf_counter()
            demo = Demo(urls, suite.issuer, suite.policy, suite.procs.clock_file, quiet, watch=suite.watch)
            await asyncio.to_thread(run_demo, demo, [j], start)
            walks[j].append(time.perf_counter() - walk)


async def lifecycles(url: str, rounds: int, *, status: Status | None = None) -> LifecycleResult:
    """Full lifecycles per second: the demo's walk from declaration to O&M funds, every jurisdiction.

    Each round takes the next free plan years (free_start) and walks one project per jurisdiction
    through the five services' HTTP APIs with the roles' tokens, moving the shared clock file.
    """
    if rounds < 1:
        raise ValueError("rounds must be at least 1")
    walks: dict[str, list[float]] = {j: [] for j in JURISDICTIONS}
    with _progress(status, "lifecycles: starting the five services ...") as say:
        async with _walkable(url, "l", GovitSettings()) as suite:
            idle = {name: suite.procs.rss(name) for name in SERVICES}
            began = time.perf_counter()
            await _walk_rounds(suite, rounds, walks, say)
            seconds = time.perf_counter() - began
            loaded = {name: suite.procs.rss(name) for name in SERVICES}
    count = rounds * len(JURISDICTIONS)
    return LifecycleResult(
        rounds=rounds,
        lifecycles=count,
        seconds=seconds,
        per_second=count / seconds,
        mean_seconds={j: sum(t) / len(t) for j, t in walks.items()},
        rss_idle_mib=idle,
        rss_loaded_mib=loaded,
    )


@dataclass(frozen=True)
class WalkersResult:
    walkers: int
    lifecycles: int
    seconds: float  # from all walkers starting to the last one done
    per_second: float
    mean_seconds: float  # one lifecycle, over all walkers' walks


async def lifecycles_at_once(
    url: str, walkers: int, rounds: int, *, status: Status | None = None
) -> WalkersResult:
    """`walkers` walkers at once, each walking `rounds` rounds of the five jurisdictions.

    A walk moves its suite's clock through the years of its deadlines, and a walk of another
    project must not see that clock jump under its own deadlines: each walker has its suite of
    five service processes (its stream, databases and clock file), all on this machine and one
    NATS server, walked at the same time.
    """
    settings = GovitSettings()
    walks: dict[str, list[float]] = {j: [] for j in JURISDICTIONS}
    with _progress(status, f"{walkers} walkers at once: starting their suites ...") as say:
        async with contextlib.AsyncExitStack() as stack:
            suites = []
            for n in range(walkers):
                say(f"{walkers} walkers at once: starting suite {n + 1} of {walkers} ...")
                suites.append(await stack.enter_async_context(_walkable(url, f"w{n}", settings)))
            say(f"{walkers} walkers at once: walking ...")
            began = time.perf_counter()
            await asyncio.gather(*(_walk_rounds(suite, rounds, walks) for suite in suites))
            seconds = time.perf_counter() - began
    count = walkers * rounds * len(JURISDICTIONS)
    every = [t for times in walks.values() for t in times]
    return WalkersResult(walkers, count, seconds, count / seconds, sum(every) / len(every))


# -- each service's consumer ----------------------------------------------------------------------


@dataclass(frozen=True)
class Workload:
    """An event a service's consumer handles with no earlier state, and the table it writes."""

    event: Callable[[str, int], Event]  # (project id, n) -> event
    table: str


def declared_as(project: str, agency: str) -> ProjectDeclared:
    """A zhonglou construction project of ¥1,000,000 declared by `agency`."""
    return ProjectDeclared(
        project_id=project,
        jurisdiction="zhonglou",
        agency=agency,
        title="基准项目",
        kind="construction",
        amount_fen=100_000_000,
    )


def _declared(project: str, i: int) -> Event:
    return declared_as(project, f"基准局{i % 500}")


def contract_filed(project: str, agency: str) -> ContractFiled:
    """A construction contract filed for the project: 30% at signing, 40% and 30% at the acceptances."""
    amount = 90_000_000
    stages = (
        ("预付款", "signing", 30),
        ("初验款", "initial_acceptance", 40),
        ("终验款", "final_acceptance", 30),
    )
    return ContractFiled(
        project_id=project,
        jurisdiction="zhonglou",
        agency=agency,
        contract_id=f"c-{project}",
        role="construction",
        counterparty="某某信息技术有限公司",
        credit_code="91320400MA1XXXXX0A",
        amount_fen=amount,
        signed_on=date(2027, 3, 1),
        filed_on=date(2027, 3, 2),
        milestones=tuple(
            Milestone(name=name, stage=stage, share_percent=str(share), amount_fen=amount * share // 100)
            for name, stage, share in stages
        ),
    )


WORKLOADS: dict[str, Workload] = {
    # an attestation found non-compliant bars the agency: one bars row per project
    "intake": Workload(
        lambda p, i: SecurityAttested(
            project_id=p,
            jurisdiction="zhonglou",
            agency=f"基准局{i % 500}",
            attestation="mlps",
            compliant=False,
        ),
        "bars",
    ),
    # an admitted declaration opens a review case where the pack has panels (zhonglou does),
    # its ReviewCaseOpened written to the outbox and published
    "review": Workload(
        lambda p, i: ProjectScreened(
            project_id=p, jurisdiction="zhonglou", agency=f"基准局{i % 500}", accepted=True
        ),
        "cases",
    ),
    # a declaration is recorded as the service's own project row
    "procurement": Workload(_declared, "projects"),
    "acceptance": Workload(_declared, "projects"),
    "funding": Workload(_declared, "projects"),
}


@dataclass(frozen=True)
class ConsumerRun:
    service: str
    event_type: str
    events: int  # events of the workload put on the stream
    timed: int  # of those, handled after the service was ready: the ones the rate counts
    seconds: float  # from ready to the last of them acknowledged
    per_second: float
    acked: int  # the consumer's ack count when the last was handled
    retries: int
    dead_letters: int
    rows: int  # rows in the workload's table when the last was handled
    published: int  # events the service published itself meanwhile (its outbox)


async def _counters(client: httpx.AsyncClient, service: str) -> dict[str, float]:
    """The consumer's outcomes (ack, retry, deadletter) and the events published, from /metrics."""
    counts = {"ack": 0.0, "retry": 0.0, "deadletter": 0.0, "published": 0.0}
    text = (await client.get("/metrics")).text
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "govit_events_consumed_total" and sample.labels.get("consumer") == service:
                outcome = sample.labels.get("outcome", "")
                counts[outcome] = counts.get(outcome, 0.0) + sample.value
            elif sample.name == "govit_events_published_total":
                counts["published"] += sample.value
    return counts


async def _rows(database_url: str, table: str) -> int:
    engine = create_async_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text(f"SELECT count(*) FROM {table}")) or 0)
    finally:
        await engine.dispose()


async def consumer_run(
    url: str, service: str, n: int, *, poll: float = 0.1, postgres: str | None = None
) -> ConsumerRun:
    """One service's consumer working through `n` events that wait on the stream before it starts.

    Timed from /readyz answering 200 (the consumer bound) to the consumer's `ack` counter in
    /metrics reaching n. The events are the first n of a fresh stream and one pull consumer takes
    them in stream order, so its first n acks are these events, not the ones the service
    publishes itself meanwhile (older servers filter a durable on every event of the prefix).
    """
    if n < 1:
        raise ValueError("n must be at least 1")
    workload = WORKLOADS[service]
    async with services_on_a_stream(url, "c", [service], GovitSettings(), postgres=postgres) as (one, stream):
        for chunk in range(0, n, 500):
            events = [
                workload.event(f"{service[:2]}{i}{stream.prefix}", i)
                for i in range(chunk, min(n, chunk + 500))
            ]
            await asyncio.gather(*(stream.publish(e) for e in events))
        await one.start(service)
        start = time.perf_counter()
        async with httpx.AsyncClient(base_url=one.urls[service], timeout=30) as client:
            before = await _counters(client, service)
            deadline = time.monotonic() + max(120.0, n / 5)
            while True:
                counts = await _counters(client, service)
                if counts["ack"] + counts["deadletter"] >= n:
                    seconds = time.perf_counter() - start
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{service}: {counts} after {n} events:\n{one.tail(service)}")
                await asyncio.sleep(poll)
        rows = await _rows(one.env[f"GOVIT_{service.upper()}_DATABASE_URL"], workload.table)
        timed = n - int(before["ack"] + before["deadletter"])
    return ConsumerRun(
        service=service,
        event_type=workload.event("p", 0).type,
        events=n,
        timed=timed,
        seconds=seconds,
        per_second=timed / seconds,
        acked=int(counts["ack"]),
        retries=int(counts["retry"]),
        dead_letters=int(counts["deadletter"]),
        rows=rows,
        published=int(counts["published"]),
    )


@dataclass(frozen=True)
class ReplicaRun:
    replicas: int
    events: int
    seconds: float  # from the first event published (every process ready) to the last one handled
    per_second: float
    acked_by: dict[str, int]  # per process
    retries: int  # deliveries answered "later" (an approval before its declaration: retried)
    dead_letters: int
    handled: int  # inbox rows: each event once
    approved: int  # projects whose approval was applied after their declaration


def _replicated(project: str, i: int) -> list[Event]:
    """A project's declaration and then its approval: funding applies the approval only to a
    project it has recorded (else it retries), so the two must end up applied in order."""
    approved = ProjectApproved(
        project_id=project, jurisdiction="zhonglou", approved_amount_fen=100_000_000, plan_year=2027
    )
    return [_declared(project, i), approved]


async def _acked(procs: Processes, keys: Sequence[str]) -> dict[str, dict[str, float]]:
    counts = {}
    for key in keys:
        async with httpx.AsyncClient(base_url=procs.urls[key], timeout=30) as client:
            counts[key] = await _counters(client, "funding")
    return counts


async def _publish_in_turn(stream: Stream, events: Sequence[Event]) -> None:
    for event in events:
        await stream.publish(event)


async def replicas_run(url: str, projects: int, replicas: int, postgres: str) -> ReplicaRun:
    """`replicas` funding processes on one PostgreSQL database sharing the durable consumer, working
    through a declaration and an approval per project waiting on the stream."""
    settings = GovitSettings()
    async with services_on_a_stream(url, "r", ["funding"], settings, postgres=postgres) as (procs, stream):
        await procs.start("funding")
        keys = ["funding"] + [await procs.replica("funding") for _ in range(replicas - 1)]
        database = procs.env["GOVIT_FUNDING_DATABASE_URL"]
        n = 2 * projects
        start = time.perf_counter()  # all processes ready and bound; the events come now
        for chunk in range(0, projects, 250):
            # concurrently, but a project's approval only after its declaration was stored
            numbers = range(chunk, min(projects, chunk + 250))
            await asyncio.gather(
                *(_publish_in_turn(stream, _replicated(f"r{i}{stream.prefix}", i)) for i in numbers)
            )
        deadline = time.monotonic() + max(300.0, n / 5)
        while (handled := await _rows(database, "inbox")) < n:
            if time.monotonic() > deadline:
                raise RuntimeError(f"replicas: {handled} of {n} events handled")
            await asyncio.sleep(0.05)
        seconds = time.perf_counter() - start
        counts = await _acked(procs, keys)
        approved = await _rows(database, "projects WHERE approved")
    return ReplicaRun(
        replicas=replicas,
        events=n,
        seconds=seconds,
        per_second=n / seconds,
        acked_by={k: int(c["ack"]) for k, c in counts.items()},
        retries=int(sum(c["retry"] for c in counts.values())),
        dead_letters=int(sum(c["deadletter"] for c in counts.values())),
        handled=handled,
        approved=approved,
    )


async def consumer_runs(
    url: str, n: int, *, status: Status | None = None, postgres: str | None = None
) -> dict[str, ConsumerRun]:
    """`consumer_run` for each of the five services in turn, each alone on its own stream (on SQLite,
    or on PostgreSQL given its admin URL)."""
    runs: dict[str, ConsumerRun] = {}
    where = "PostgreSQL" if postgres else "SQLite"
    with _progress(status, "consumer throughput ...") as say:
        for service in SERVICES:
            say(f"catch-up on {where}: {service}, {n:,} events waiting ...")
            runs[service] = await consumer_run(url, service, n, postgres=postgres)
    return runs


async def consumer_rates(url: str, n: int, *, status: Status | None = None) -> dict[str, float]:
    """Events per second each service's consumer handles (decode, inbox, its rows, commit, ack).

    Refuses a figure whose events were not all handled cleanly: any retry or dead letter, or fewer
    rows written than events sent, raises with the runs' details.
    """
    runs = await consumer_runs(url, n, status=status)
    faulty = [r for r in runs.values() if r.retries or r.dead_letters or r.rows != n]
    if faulty:
        raise RuntimeError(f"events not all handled cleanly: {faulty}")
    return {service: run.per_second for service, run in runs.items()}


# -- alone ---------------------------------------------------------------------------------------------


async def _nats_url() -> tuple[str, EmbeddedNats | None]:
    url = os.environ.get("GOVIT_BENCH_NATS_URL", "nats://127.0.0.1:4222")
    try:
        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        await nc.close()
        return url, None
    except Exception:
        embedded = EmbeddedNats(VAR / "nats").start()
        return embedded.url, embedded


async def _main(rounds: int, n: int) -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    console = Console()
    url, embedded = await _nats_url()
    began = time.perf_counter()
    try:
        with console.status("starting ...") as status:
            life = await lifecycles(url, rounds, status=status)
            runs = await consumer_runs(url, n, status=status)
    finally:
        if embedded is not None:
            embedded.stop()
    console.print(f"NATS {url}{' (embedded)' if embedded else ''}")
    console.print(
        f"lifecycles: {life.lifecycles} in {life.seconds:.1f} s = {life.per_second:.3f}/s "
        f"({life.rounds} round(s) over {len(life.mean_seconds)} jurisdictions)"
    )
    walks = Table("jurisdiction", "mean s per lifecycle")
    for j, seconds in life.mean_seconds.items():
        walks.add_row(j, f"{seconds:.2f}")
    console.print(walks)
    memory = Table("service", "RSS idle MiB", "RSS after lifecycles MiB")
    for name in SERVICES:
        memory.add_row(name, f"{life.rss_idle_mib[name]:.1f}", f"{life.rss_loaded_mib[name]:.1f}")
    console.print(memory)
    rates = Table(
        "service",
        "event",
        "events/s",
        "timed",
        "s",
        "rows",
        "retry",
        "dlq",
        "pub",
        title=f"consumer throughput, {n} events each (pub: events the service published)",
    )
    for run in runs.values():
        rates.add_row(
            run.service,
            run.event_type.split(".")[2],
            f"{run.per_second:.1f}",
            str(run.timed),
            f"{run.seconds:.2f}",
            str(run.rows),
            str(run.retries),
            str(run.dead_letters),
            str(run.published),
        )
    console.print(rates)
    console.print(f"total {time.perf_counter() - began:.1f} s")


if __name__ == "__main__":
    asyncio.run(_main(rounds=1, n=300))
