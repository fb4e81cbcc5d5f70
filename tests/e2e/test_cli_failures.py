"""A failing `govit` command says what failed, why and what to do in a line or two, with the
documented exit code (1 the operation failed, 2 invalid usage), and no traceback unless GOVIT_DEBUG=1."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from govit.devnats import free_port, free_ports
from tests.conftest import unique
from tests.servers import another_service

pytestmark = pytest.mark.services("intake", "review", "procurement", "acceptance", "funding")

SERVICES = ("intake", "review", "procurement", "acceptance", "funding")


def govit(tmp_path: Path, *args: str, **variables: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")}
    env |= {"GOVIT_VAR_DIR": str(tmp_path / "var"), **variables}
    return subprocess.run(
        [sys.executable, "-m", "govit.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def short(done: subprocess.CompletedProcess[str]) -> list[str]:
    """The failure's lines after the one naming the broker."""
    lines = [line for line in done.stderr.splitlines() if not line.startswith("NATS nats://")]
    assert "Traceback" not in done.stderr
    assert 1 <= len(lines) <= 2, done.stderr
    return lines


def test_an_unreachable_nats_is_named_with_what_to_do(tmp_path: Path) -> None:
    url = f"nats://127.0.0.1:{free_port()}"
    for args in (["timeline", "p1"], ["dlq", "list", "intake"]):
        done = govit(tmp_path, *args, GOVIT_NATS_URL=url)
        assert done.returncode == 1, done.stderr
        lines = short(done)
        assert "unreachable" in lines[0] and url in lines[0]
        assert "GOVIT_NATS_URL" in done.stderr.splitlines()[0]  # which broker, and why


def test_a_nats_without_the_suite_stream_is_named_and_the_traceback_is_there_on_request(
    tmp_path: Path, nats_url: str
) -> None:
    stream = unique().upper()
    done = govit(tmp_path, "dlq", "list", "intake", GOVIT_NATS_URL=nats_url, GOVIT_STREAM=stream)
    assert done.returncode == 1, done.stderr
    assert f"holds no {stream} stream" in short(done)[0]
    debug = govit(tmp_path, "timeline", "p1", GOVIT_NATS_URL=nats_url, GOVIT_STREAM=stream, GOVIT_DEBUG="1")
    assert debug.returncode == 1
    assert "Traceback" in debug.stderr and "err_code=10059" in debug.stderr


def test_invalid_usage_exits_2_and_nothing_is_done(tmp_path: Path) -> None:
    for args in (["publish"], ["timeline"], ["up", "nosuchservice"]):
        done = govit(tmp_path, *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "var").exists()  # `govit up nosuchservice` did not even take the var dir


def test_invalid_settings_exit_2_in_two_lines(tmp_path: Path) -> None:
    done = govit(tmp_path, "dlq", "list", "intake", GOVIT_SUBJECT_PREFIX="no spaces allowed")
    assert done.returncode == 2, done.stderr
    assert "subject_prefix" in short(done)[0]


def _nothing_listening() -> dict[str, str]:
    """GOVIT_<SERVICE>_PORT for each service, each a port nothing listens on."""
    chosen = zip(SERVICES, free_ports(len(SERVICES)), strict=True)
    return {f"GOVIT_{name.upper()}_PORT": str(port) for name, port in chosen}


def test_the_demo_names_a_service_it_cannot_reach(tmp_path: Path) -> None:
    ports = _nothing_listening()
    done = govit(tmp_path, "demo", "--jurisdiction", "shexian", **ports)
    assert done.returncode == 1, done.stderr
    [line] = short(done)
    assert "intake" in line and ports["GOVIT_INTAKE_PORT"] in line and "make up" in line


def test_the_demo_does_not_take_another_servers_answer_for_a_service(tmp_path: Path) -> None:
    ports = _nothing_listening()
    with another_service("review") as taken:
        ports["GOVIT_INTAKE_PORT"] = str(taken)
        done = govit(tmp_path, "demo", "--jurisdiction", "shexian", **ports)
    assert done.returncode == 1, done.stderr
    [line] = short(done)
    assert "intake" in line and f":{taken}" in line and "make up" in line
