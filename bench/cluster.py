"""The suite on a three-server JetStream cluster under faults, for docs/BENCHMARKS.md.

Runs tests/cluster (the same runs `make test` checks, here with GOVIT_BENCH_CLUSTER_PROJECTS held
payments each, default 200) and reads the figures each run prints: how long the stream took to
take writes again after its leader was killed, how long a rolling restart took, how many
deliveries a killed funding replica's batch cost, and when every payment was released.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "cluster figures: "
HEADER = (
    "| run | the fault | stream takes writes again after | slowest publish | all released after "
    "| all caught up after | deliveries again (funding) |\n|---|---|---|---|---|---|---|"
)


@dataclass(frozen=True)
class ClusterRuns:
    projects: int
    runs: dict[str, dict[str, object]]  # by run: leader, rolling, replica
    passed: bool
    said: str  # the end of pytest's output, when a run failed


def cluster_runs(postgres: str, projects: int | None = None) -> ClusterRuns:
    wanted = projects or int(os.environ.get("GOVIT_BENCH_CLUSTER_PROJECTS", "200"))
    env = {**os.environ, "GOVIT_CLUSTER_PROJECTS": str(wanted), "GOVIT_TEST_POSTGRES_URL": postgres}
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/cluster", "-q", "-s", "-p", "no:cacheprovider"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
        check=False,
    )
    runs = {}
    for line in done.stdout.splitlines():
        if line.startswith(MARK):
            figures = json.loads(line.removeprefix(MARK))
            runs[str(figures.pop("run"))] = figures
    return ClusterRuns(wanted, runs, done.returncode == 0, done.stdout[-2000:])


def render(measured: ClusterRuns | None) -> str:
    if measured is None:
        return "Not measured: no PostgreSQL server was reachable (GOVIT_BENCH_POSTGRES_URL)."
    if not measured.passed:
        return f"The cluster runs failed; pytest said:\n\n```\n{measured.said}\n```"
    leader, rolling, replica = (measured.runs.get(k, {}) for k in ("leader", "rolling", "replica"))
    n = measured.projects

    def cell(run: dict[str, object], key: str, unit: str = " s") -> str:
        return f"{run[key]}{unit}" if key in run else "—"

    rows = [
        (
            "leader",
            "kill -9 of the stream's leader, restarted once the stream has a new one "
            f"(back after {cell(leader, 'killed server back after s')})",
            cell(leader, "stream writable again after s"),
            leader,
        ),
        (
            "rolling",
            "each server stopped and started in turn, as an upgrade does "
            f"({cell(rolling, 'rolling restart s')} for the three)",
            "—",
            rolling,
        ),
        (
            "replica",
            "the approvals held back, one funding replica frozen, a few approvals let go: it holds "
            f"{cell(replica, 'unanswered when killed', '')} deliveries unanswered, then kill -9 "
            "(`GOVIT_ACK_WAIT_SECONDS=5`)",
            "—",
            replica,
        ),
    ]
    table = "\n".join(
        f"| {name} | {fault} | {writable} | {cell(run, 'slowest publish s')} | "
        f"{cell(run, 'all released after s')} | {cell(run, 'all caught up after s')} | "
        f"{cell(run, 'funding deliveries again', '')} |"
        for name, fault, writable, run in rows
    )
    return f"""Three nats-servers on loopback (`govit.devnats.EmbeddedCluster`: routes between each pair,
each its own store, `sync_interval: always`), the stream with three replicas, PostgreSQL, two
funding processes and one of each other service. {n} projects are declared and each has a
preparatory payment held until its approval; then their plans and approvals ({2 * n} events) are
published one after another, each until the stream acknowledges it, and the fault happens when a
third are out. Every run ends with every payment released once (one release event each on the
stream, one `released` row each), each approval handled once (one inbox row each), every
consumer caught up and every outbox drained: tests/cluster/test_cluster.py checks it.

{HEADER}
{table}

Times are from the first approval published. A killed leader costs the publishers its election:
JetStream answers no publish until another server leads the stream (the first line's third
column), and a publisher that keeps its message id while it tries again stores the event once.
A graceful stop hands leadership over first, so a rolling restart mostly costs a publisher
nothing; a publish that reaches a server as it stops waits for the new leader (the rolling
line's slowest publish, when it is more than a few hundredths of a second).
Either way, a delivery whose acknowledgement was on its way through the server that went away is
delivered again once the ack wait has passed (`GOVIT_ACK_WAIT_SECONDS`, 30 s by default: the
difference between the last two time columns); the inbox takes it as handled. A replica killed
with deliveries in hand costs them the ack wait (5 s here): the broker gives them to the other
replica, which handles each once.
"""


if __name__ == "__main__":
    url = os.environ.get("GOVIT_BENCH_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test")
    print(render(cluster_runs(url)))
