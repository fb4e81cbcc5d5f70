"""The README's walks run as written, on a machine where another NATS already listens on 4222.

The shell blocks are read from README.md and docs/SUBSCRIBING.md themselves, so what is tested
is what a reader pastes: the five-minute tour (`make up`, `govit demo`, `govit timeline`), "Try it"
twice on the same running suite, the subscriber example, and "Adopting one service". The suite
runs from a working copy of its own (the repository's .venv, Makefile and examples linked in, a
var/ of its own) with no GOVIT_ variable set, so its embedded NATS has to move off 4222 and the
commands of the second shell have to find it as the README says. The services use the README's
ports 8001-8005: if one is taken the test is skipped naming it (under CI=true it fails).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from govit.devnats import EmbeddedNats, port_is_free
from tests.servers import missing

pytestmark = [
    pytest.mark.slow,
    pytest.mark.services("intake", "review", "procurement", "acceptance", "funding"),
]

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
SUBSCRIBING = ROOT / "docs" / "SUBSCRIBING.md"
SERVICE_PORTS = range(8001, 8006)
SUITE_COMMAND = re.compile(r"^(make up|\.venv/bin/govit up)\b")
CODE = re.compile(r"→ HTTP (\d{3})")


def shell_blocks(document: Path, heading: str) -> list[str]:
    """The ```sh blocks of the section whose heading starts with `heading` (up to the next
    heading of the same or a higher level)."""
    tokens = MarkdownIt().parse(document.read_text(encoding="utf-8"))
    blocks: list[str] = []
    level: int | None = None
    for i, token in enumerate(tokens):
        if token.type == "heading_open":
            depth = int(token.tag[1:])
            if level is not None and depth <= level:
                break
            if level is None and tokens[i + 1].content.startswith(heading):
                level = depth
        elif level is not None and token.type == "fence" and token.info.strip() == "sh":
            blocks.append(token.content)
    assert blocks, f"no sh block under {heading!r} in {document.name}"
    return blocks


def split_suite(block: str) -> tuple[str, list[str]]:
    """The block's lines up to the one starting the suite (terminal 1), and the lines after it."""
    lines = block.splitlines()
    for i, line in enumerate(lines):
        if SUITE_COMMAND.match(line):
            return "\n".join(lines[: i + 1]), lines[i + 1 :]
    raise AssertionError(f"no `make up` / `govit up` line in:\n{block}")


def bash(script: str, cwd: Path, env: dict[str, str], timeout: float = 300) -> str:
    """Run a pasted script as a second shell would; stdout and stderr together; must exit 0."""
    done = subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"exit {done.returncode}:\n{script}\n---\n{output[-6000:]}"
    return output


@contextlib.contextmanager
def another_nats_on_4222(store: Path) -> Iterator[None]:
    """CI's own NATS is on 4222; elsewhere a decoy takes the port if it is free."""
    if not port_is_free(4222):
        yield
        return
    try:
        with EmbeddedNats(store, port=4222):
            yield
    except FileNotFoundError:
        missing("nats-server (for a NATS on port 4222)")


@contextlib.contextmanager
def suite(script: str, copy: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    """Terminal 1: the README's lines ending in `make up` / `govit up`, until "govit is up"."""
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-e", "-c", script],
            cwd=copy,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 180
        while "govit is up" not in log.read_text() and proc.poll() is None:
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.3)
        assert proc.poll() is None, log.read_text()
        yield log.read_text()
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture
def copy(tmp_path: Path) -> Path:
    """A working copy of the repository: its .venv, Makefile and examples, a var/ of its own."""
    taken = [port for port in SERVICE_PORTS if not port_is_free(port)]
    if taken:
        missing(f"the README's service ports (taken: {', '.join(map(str, taken))})")
    work = tmp_path / "govit"
    work.mkdir()
    for name in (".venv", "Makefile", "pyproject.toml", "examples"):
        (work / name).symlink_to(ROOT / name)
    planned = subprocess.run(["make", "-n", "up"], cwd=work, capture_output=True, text=True, check=True)
    if "pip install" in planned.stdout:
        pytest.fail("the .venv is behind pyproject.toml: run `make install` first", pytrace=False)
    return work


def user_env() -> dict[str, str]:
    """A user's shell: none of the suite's settings (GOVIT_NATS_URL unset), a wide terminal."""
    return {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")} | {"COLUMNS": "160"}


def test_the_tour_try_it_and_subscribing_work_as_written(copy: Path, tmp_path: Path) -> None:
    env = user_env()
    (tour,) = shell_blocks(README, "A five-minute tour")
    (try_it,) = shell_blocks(README, "Try it")
    (subscribing,) = shell_blocks(SUBSCRIBING, "How: a durable consumer")
    terminal_1, terminal_2 = split_suite(tour)
    with another_nats_on_4222(tmp_path / "decoy"), suite(terminal_1, copy, env, tmp_path / "up.log") as up:
        assert "port 4222 is taken" in up, up  # the embedded NATS had to move

        # The tour, line by line; `<id>` is the project the demo names at its end.
        demo, timeline = [line for line in terminal_2 if line.strip()]
        shown = bash(demo, copy, env, timeout=400)
        assert shown.count("运维经费 →") == 5, shown[-4000:]
        (project,) = re.findall(r"govit timeline (\w+)", shown)
        history = bash(timeline.replace("<id>", project), copy, env)
        for event in ("project_declared", "project_approved", "final_acceptance_concluded", "om_decided"):
            assert event in history, history[-4000:]

        # "Try it", pasted twice on the same suite: both reach released money.
        runs = [bash(try_it + '\necho "walked P=$P Y=$Y"', copy, env) for _ in range(2)]
        walked = [re.search(r"walked P=(\w+) Y=(\d+)", run) for run in runs]
        assert all(walked), runs
        assert walked[0][2] != walked[1][2], "the second paste took the same plan year"  # type: ignore[index]
        for i, run in enumerate(runs):
            agency = "201" if i == 0 else "200"  # registered, then found registered
            # project, 2 materials, submission, held, screening, plan, publication, approval, list, gates
            walk = ["200", "201", "201", "200", "202", "200", "200", "200", "200", "200", "200"]
            assert CODE.findall(run) == [agency, *walk], run
            released = run.split("→ HTTP")[-3]  # the disbursement list, before the gates
            assert '"status":"released"' in released and '"closed_gates":[]' in released, run
            assert "xunyang §8" in run  # the held request's closed gate

        # The subscriber: the demo's shexian project, then the second paste's project.
        first, by_project = [line for line in subscribing.splitlines() if line.strip()]
        followed = [json.loads(line) for line in bash(first, copy, env).splitlines() if line.startswith("{")]
        assert followed and {e["jurisdiction"] for e in followed} == {"shexian"}, followed
        assert len({e["id"] for e in followed}) == len(followed)
        assert bash(first, copy, env).count('"id"') == 0  # its durable consumer kept its place
        mine = walked[1][1]  # type: ignore[index]
        events = [
            json.loads(line)
            for line in bash(by_project.replace("<project-id>", mine), copy, env).splitlines()
            if line.startswith("{")
        ]
        types = [e["type"] for e in events]
        assert "govit.intake.project_declared.v1" in types, types
        assert "govit.funding.disbursement_released.v1" in types, types


def test_adopting_one_service_works_as_written(copy: Path, tmp_path: Path) -> None:
    env = user_env()
    start, walk = shell_blocks(README, "Adopting one service")
    terminal_1, rest = split_suite(start)
    assert not "".join(rest).strip()
    with another_nats_on_4222(tmp_path / "decoy"), suite(terminal_1, copy, env, tmp_path / "up.log") as up:
        assert "port 4222 is taken" in up, up
        run = bash(walk, copy, env)
    codes = CODE.findall(run)
    assert "202" in codes and codes[-3:] == ["201", "200", "200"], run
    payments = json.loads(run.split("→ HTTP")[-3].strip().splitlines()[-1])
    assert [p["status"] for p in payments["items"]] == ["released"], payments
    gates = json.loads(run.split("→ HTTP")[-2].strip().splitlines()[-1])
    explained = {g["gate"]: g["explanation"] for g in gates}
    assert "已满足" in explained["approval"] and "urn:gov:lhasa:project-system" in explained["approval"]
    assert "手工登记" in explained["acceptance"] and "拉数验〔2027〕8号" in explained["acceptance"]
