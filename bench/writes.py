"""The HTTP write path: requests per second of a declaration (intake, POST /projects) and of a
disbursement request (funding, POST /projects/{id}/disbursements), each service as its own
process, against a bare FastAPI endpoint inserting one row with the same engine and settings
(bench/bare_api.py), on SQLite and on PostgreSQL. The same client load for all three: a number of
clients at once, each sending its next request when the last was answered."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import os
import signal
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from govit import launch
from govit.devnats import free_port
from shared.auth import Role, TokenIssuer
from shared.contracts import Event
from shared.contracts.intake import ProjectApproved
from shared.settings import GovitSettings

try:
    from bench import profiled, suite
except ImportError:  # run as a script: bench/ is on sys.path, not its parent
    import profiled  # type: ignore[no-redef]
    import suite  # type: ignore[no-redef]

CLIENTS = 16  # requests in flight at once
FUNDED = 100  # projects funding knows, the disbursement requests spread over them
# What each request runs in its transaction besides BEGIN and COMMIT (reads, writes), as its SQL log
# shows. A declaration: the agency; the project, its decision, the audit head and entry. A
# disbursement request: the project, its gates, contracts and ledger; the event's number, the outbox
# row, the request, the audit head and entry.
DECLARATION = (1, 4)
DISBURSEMENT = (4, 5)


@dataclass(frozen=True)
class WriteRates:
    """Requests per second on one database; `*_statements`: the bare endpoint running that
    request's statements and nothing else. `calls`: Python calls per request in the serving
    process, by the same names, where they were counted, each by (file, function)."""

    bare: float
    declaration_statements: float
    declaration: float
    disbursement_statements: float
    disbursement: float
    calls: dict[str, dict[tuple[str, str], float]] = field(default_factory=dict)

    def total_calls(self, name: str) -> float | None:
        counted = self.calls.get(name)
        return None if counted is None else sum(counted.values())


Send = Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]]
# Requests per second; Python calls per request by (file, function), if counted.
Measured = tuple[float, dict[tuple[str, str], float] | None]


async def _load(
    send: Callable[[httpx.AsyncClient, int], Awaitable[httpx.Response]], base: str, n: int
) -> float:
    """n requests from CLIENTS clients at once; requests per second. Any answer other than 2xx fails."""
    numbers = itertools.count()
    failures: list[str] = []

    async def client() -> None:
        async with httpx.AsyncClient(base_url=base, timeout=60) as http:
            while (i := next(numbers)) < n:
                response = await send(http, i)
                if response.status_code >= 300:
                    failures.append(f"{response.status_code} {response.text[:300]}")

    start = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CLIENTS)))
    seconds = time.perf_counter() - start
    if failures:
        raise RuntimeError(f"{len(failures)} of {n} requests failed, e.g. {failures[0]}")
    return n / seconds


async def _warm_then_measure(
    send: Send, base: str, n: int, counted: tuple[int, Path] | None = None
) -> Measured:
    """Requests per second over n requests after 100 to warm up; with `counted` (the serving
    process's pid and the profile it writes, bench.profiled), then its Python calls per request
    over as many requests again, counted while nothing else is measured."""
    await _load(send, base, min(100, n))  # the first requests pay for caches and connections
    rate = await _load(lambda http, i: send(http, i + n), base, n)
    if counted is None:
        return rate, None
    pid, out = counted
    os.kill(pid, signal.SIGUSR1)
    await _load(lambda http, i: send(http, i + 2 * n), base, n)
    await asyncio.sleep(0.5)  # the relay publishes what the last requests committed
    os.kill(pid, signal.SIGUSR2)
    for _ in range(600):
        if out.exists():
            return rate, {key: calls / n for key, calls in profiled.counts(out).items()}
        await asyncio.sleep(0.05)
    raise RuntimeError(f"no profile written to {out}")


@contextlib.asynccontextmanager
async def _bare(
    database_url: str, statements: tuple[int, int], profile: Path | None
) -> AsyncIterator[tuple[str, int]]:
    """The bare endpoint's process, ready: its URL and pid (under bench.profiled, given `profile`)."""
    port = free_port()
    profiled_ = [] if profile is None else ["-m", "bench.profiled", str(profile)]
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        *profiled_,
        "-m",
        "bench.bare_api",
        str(port),
        database_url,
        *(str(count) for count in statements),
        cwd=suite.ROOT,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=2) as http:
            for _ in range(300):
                if proc.returncode is not None:
                    raise RuntimeError(f"the bare API exited ({proc.returncode})")
                with contextlib.suppress(httpx.HTTPError):
                    if launch.ready_as(await http.get("/healthz"), "bare", proc.pid):
                        break
                await asyncio.sleep(0.1)
            else:
                raise RuntimeError(f"the bare API did not answer at {base} in 30 s")
        yield base, proc.pid
    finally:
        proc.terminate()
        await proc.wait()


async def bare_rate(
    database_url: str, n: int, statements: tuple[int, int] = (0, 1), profile: Path | None = None
) -> Measured:
    async def send(http: httpx.AsyncClient, i: int) -> httpx.Response:
        return await http.post("/rows", json={"title": f"基准项目{i}", "amount_fen": 100_000_000})

    async with _bare(database_url, statements, profile) as (base, pid):
        return await _warm_then_measure(send, base, n, None if profile is None else (pid, profile))


def _counted(procs: suite.Processes, name: str) -> tuple[int, Path] | None:
    return None if procs.profiles is None else (procs.procs[name].proc.pid, procs.profiles / f"{name}.prof")


async def declaration_rate(url: str, n: int, postgres: str | None, profiles: Path | None = None) -> Measured:
    settings = GovitSettings()
    issuer = TokenIssuer(settings)
    async with suite.services_on_a_stream(url, "w", ["intake"], settings, postgres=postgres) as (procs, _):
        procs.profiles = profiles
        await procs.start_all()
        base = procs.urls["intake"]
        boss = issuer.issue(sub="b", role=Role.AUTHORITY, jurisdictions=["zhonglou"])
        authority = {"Authorization": f"Bearer {boss}"}
        agency = "基准局"
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            made = await http.post(
                "/agencies",
                headers=authority,
                json={"jurisdiction": "zhonglou", "name": agency, "level": "district"},
            )
            made.raise_for_status()
        token = issuer.issue(sub="b", role=Role.APPLICANT, agency=agency, jurisdictions=["zhonglou"])
        unit = {"Authorization": f"Bearer {token}"}

        async def send(http: httpx.AsyncClient, i: int) -> httpx.Response:
            return await http.post(
                "/projects",
                headers=unit,
                json={
                    "jurisdiction": "zhonglou",
                    "title": f"基准项目{i}",
                    "kind": "construction",
                    "amount_fen": 100_000_000,
                    "summary": "基准项目建设",
                    "security_plan": "按等保三级同步规划、同步建设、同步运行",
                    "data_sharing_items": ["业务办理信息"],
                },
            )

        return await _warm_then_measure(send, base, n, _counted(procs, "intake"))


async def disbursement_rate(url: str, n: int, postgres: str | None, profiles: Path | None = None) -> Measured:
    settings = GovitSettings()
    issuer = TokenIssuer(settings)
    async with suite.services_on_a_stream(url, "d", ["funding"], settings, postgres=postgres) as (
        procs,
        stream,
    ):
        projects = [f"f{i}{stream.prefix}" for i in range(FUNDED)]
        for project in projects:
            for event in _funded(project):
                await stream.publish(event)
        procs.profiles = profiles
        await procs.start_all()
        base = procs.urls["funding"]
        token = issuer.issue(sub="b", role=Role.APPLICANT, agency="基准局", jurisdictions=["zhonglou"])
        unit = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for project in projects:  # funding has handled the events of every project
                for _ in range(600):
                    if (await http.get(f"/projects/{project}", headers=unit)).status_code == 200:
                        break
                    await asyncio.sleep(0.05)

        async def send(http: httpx.AsyncClient, i: int) -> httpx.Response:
            return await http.post(
                f"/projects/{projects[i % FUNDED]}/disbursements",
                headers=unit,
                json={"amount_fen": 10_000, "purpose": "建设资金", "kind": "construction"},
            )

        return await _warm_then_measure(send, base, n, _counted(procs, "funding"))


def _funded(project: str) -> list[Event]:
    """What funding needs to take a construction payment request: declared, approved, contracted."""
    approved = ProjectApproved(
        project_id=project, jurisdiction="zhonglou", approved_amount_fen=100_000_000, plan_year=2027
    )
    return [suite.declared_as(project, "基准局"), approved, suite.contract_filed(project, "基准局")]


async def write_rates(
    url: str, n: int, database: str, postgres: str | None = None, *, count: bool = False
) -> WriteRates:
    """The rates on SQLite (`database` is a file path for the bare endpoint's) or, given a
    PostgreSQL admin URL, on fresh databases of that server; with `count`, each serving process's
    Python calls per request as well (bench.profiled)."""
    measured: dict[str, Measured] = {}
    with tempfile.TemporaryDirectory(prefix="govit-calls-") as scratch:
        profiles = Path(scratch) if count else None

        def profile(name: str) -> Path | None:
            return None if profiles is None else profiles / f"{name}.prof"

        async with contextlib.AsyncExitStack() as stack:
            if postgres is None:
                database_url = f"sqlite+aiosqlite:///{database}"
            else:
                tag = f"bare{int(time.time())}"
                databases = await stack.enter_async_context(suite.postgres_databases(postgres, tag, ["bare"]))
                database_url = databases["bare"]
            measured["bare"] = await bare_rate(database_url, n, profile=profile("bare"))
            for name, statements in (("declaration", DECLARATION), ("disbursement", DISBURSEMENT)):
                key = f"{name}_statements"
                measured[key] = await bare_rate(database_url, n, statements, profile(key))
        measured["declaration"] = await declaration_rate(url, n, postgres, profiles)
        measured["disbursement"] = await disbursement_rate(url, n, postgres, profiles)
    return WriteRates(
        bare=measured["bare"][0],
        declaration_statements=measured["declaration_statements"][0],
        declaration=measured["declaration"][0],
        disbursement_statements=measured["disbursement_statements"][0],
        disbursement=measured["disbursement"][0],
        calls={name: calls for name, (_, calls) in measured.items() if calls is not None},
    )
