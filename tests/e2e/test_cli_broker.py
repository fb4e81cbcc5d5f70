"""The commands find the running suite: with another NATS (holding a stream of the same name) on the
port `govit up` would take, `govit up` moves, records where, and publish, timeline, dlq and the
example subscriber go to the recorded broker and say so; a second `govit up` on the same var dir
refuses at once and touches nothing."""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest

from govit.broker import RECORD
from govit.devnats import EmbeddedNats, free_port
from shared.bus import JetStreamBus
from tests.conftest import unique

pytestmark = [pytest.mark.slow, pytest.mark.services("intake")]

ROOT = Path(__file__).resolve().parents[2]
APPROVED = "govit.intake.project_approved.v1"


def approval(project_id: str) -> str:
    return json.dumps(
        {
            "project_id": project_id,
            "jurisdiction": "shexian",
            "approved_amount_fen": 120_000_000,
            "plan_year": 2027,
            "approval_number": "歙发改〔2027〕12号",
        },
        ensure_ascii=False,
    )


def files(root: Path) -> dict[str, tuple[int, int]]:
    """Every file under root with its size and modification time."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in root.rglob("*")
        if p.is_file()
    }


async def messages(url: str, stream: str) -> int:
    nc = await nats.connect(url, connect_timeout=5)
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


@pytest.fixture
def decoy(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """Another NATS JetStream on the port `govit up` and the commands would take by default."""
    with EmbeddedNats(tmp_path / "decoy", port=free_port()) as server:
        yield server


def test_commands_use_the_broker_govit_up_recorded_not_the_one_on_the_default_port(
    tmp_path: Path, decoy: EmbeddedNats
) -> None:
    stream, prefix = unique().upper(), unique()
    # The decoy even holds a stream of the suite's name: only the record tells them apart.
    decoy_bus = JetStreamBus(decoy.url, stream=stream, prefix=prefix)

    async def decoy_stream() -> None:
        await decoy_bus.connect(timeout=10)
        await decoy_bus.ensure_stream()
        await decoy_bus.close()

    asyncio.run(decoy_stream())
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")}
    env |= {
        "GOVIT_VAR_DIR": str(tmp_path / "var"),
        "GOVIT_EMBEDDED_NATS_PORT": str(decoy.port),
        "GOVIT_INTAKE_PORT": str(free_port()),
        "GOVIT_STREAM": stream,
        "GOVIT_SUBJECT_PREFIX": prefix,
    }

    def govit(*args: str, extra: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "govit.cli", *args],
            env={**env, **(extra or {})},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=90,
        )

    log_path = tmp_path / "up.log"
    with log_path.open("w") as log:
        up = subprocess.Popen(
            [sys.executable, "-m", "govit.cli", "up", "intake"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 120
        while "govit is up" not in log_path.read_text() and up.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        output = log_path.read_text()
        assert up.poll() is None and "govit is up" in output, output
        assert f"port {decoy.port} is taken" in output
        exported = re.search(r"^export GOVIT_NATS_URL=(nats://127\.0\.0\.1:(\d+))$", output, re.MULTILINE)
        assert exported is not None, output
        suite_url = exported.group(1)
        assert int(exported.group(2)) != decoy.port
        record = json.loads((tmp_path / "var" / RECORD).read_text())
        assert (record["url"], record["pid"]) == (suite_url, up.pid)

        _a_second_up_refuses_and_touches_nothing(tmp_path, govit, up.pid)

        project = unique("p")
        published = govit("publish", APPROVED, approval(project), "--id", str(uuid.uuid4()))
        assert published.returncode == 0, published.stderr
        said = published.stderr.splitlines()[0]
        assert suite_url in said and "govit up" in said, published.stderr
        assert "disconnected" not in published.stderr
        assert asyncio.run(messages(suite_url, stream)) == 1
        assert asyncio.run(messages(decoy.url, stream)) == 0

        shown = govit("timeline", project)
        assert shown.returncode == 0, shown.stderr
        assert APPROVED in shown.stdout
        assert suite_url in shown.stderr and "govit up" in shown.stderr
        assert "disconnected" not in shown.stderr

        parked = govit("dlq", "list", "intake")
        assert parked.returncode == 0, parked.stderr
        assert suite_url in parked.stderr and "govit up" in parked.stderr

        example = [sys.executable, str(ROOT / "examples" / "subscriber.py"), "--project", project]
        chosen = [
            "--stream",
            stream,
            "--prefix",
            prefix,
            "--durable",
            unique("d"),
            "--max",
            "1",
            "--idle",
            "10",
        ]
        subscriber = subprocess.run(
            [*example, *chosen],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert subscriber.returncode == 0, subscriber.stderr
        assert json.loads(subscriber.stdout.splitlines()[0])["project"] == project
        assert suite_url in subscriber.stderr and "govit up" in subscriber.stderr
    finally:
        up.send_signal(signal.SIGINT)
        try:
            code = up.wait(60)
        except subprocess.TimeoutExpired:
            up.kill()
            raise
    assert code == 0, log_path.read_text()
    assert not (tmp_path / "var" / RECORD).exists()
    # The suite stopped: the commands fall back to the default port, and say so.
    after = govit("timeline", project)
    assert after.returncode == 1
    assert decoy.url in after.stderr and "default" in after.stderr
    assert "Traceback" not in after.stderr


def _a_second_up_refuses_and_touches_nothing(tmp_path: Path, govit, pid: int) -> None:  # type: ignore[no-untyped-def]
    var = tmp_path / "var"
    before = files(var)
    started = time.monotonic()
    second = govit("up", "intake")
    assert second.returncode == 1, second.stdout + second.stderr
    assert time.monotonic() - started < 30  # at once: it waited for nothing
    assert f"pid {pid}" in second.stderr and "GOVIT_VAR_DIR" in second.stderr
    assert "Traceback" not in second.stderr
    assert files(var) == before  # no config rewritten, no log opened, no record replaced
