"""`govit export` writes a running service's report to a file, as the token's holder may see it,
and says in a line what is missing or refused."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from govit.launch import start
from services.funding.reports import LEDGER
from shared.auth import Role
from tests.conftest import bearer, unique

pytestmark = [pytest.mark.slow, pytest.mark.services("funding", "procurement")]


@pytest.fixture
async def funding_port(tmp_path: Path, nats_url: str) -> AsyncIterator[dict[str, str]]:
    async with serving("funding", tmp_path, nats_url) as env:
        yield env


@pytest.fixture
async def procurement_port(tmp_path: Path, nats_url: str) -> AsyncIterator[dict[str, str]]:
    async with serving("procurement", tmp_path, nats_url) as env:
        yield env


@contextlib.asynccontextmanager
async def serving(name: str, tmp_path: Path, nats_url: str) -> AsyncIterator[dict[str, str]]:
    """`govit serve <name>` on a free port, its own stream; the environment that reaches it."""
    tag = unique()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")}
    env |= {
        "GOVIT_VAR_DIR": str(tmp_path / "var"),
        "GOVIT_NATS_URL": nats_url,
        "GOVIT_STREAM": tag.upper(),
        "GOVIT_SUBJECT_PREFIX": tag,
    }
    service = await start(name, env, tmp_path / f"{name}.log")
    try:
        yield env | {f"GOVIT_{name.upper()}_PORT": service.url.rsplit(":", 1)[1]}
    finally:
        await asyncio.to_thread(service.stop, 30)


def govit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "govit.cli", "export", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_export_writes_the_ledger_and_names_what_is_missing(
    funding_port: dict[str, str], tmp_path: Path
) -> None:
    env = funding_port
    token = bearer(Role.FINANCE, jurisdictions=["xunyang"])["Authorization"].split()[1]
    target = tmp_path / "台账.csv"
    done = govit(
        env | {"GOVIT_TOKEN": token}, "ledger", "--format", "csv", "-j", "xunyang", "-o", str(target)
    )
    assert done.returncode == 0, done.stderr
    assert str(target) in done.stdout
    with target.open(encoding="utf-8-sig") as file:
        assert next(csv.reader(file)) == [header for header, _ in LEDGER]

    missing = govit(env, "ledger", "-o", str(tmp_path / "x.xlsx"))
    assert missing.returncode == 2 and "GOVIT_TOKEN" in missing.stderr
    refused = govit(env | {"GOVIT_TOKEN": token}, "ledger", "-j", "lhasa", "-o", str(tmp_path / "y.xlsx"))
    assert refused.returncode == 1 and "403" in refused.stderr, refused.stderr
    assert not (tmp_path / "y.xlsx").exists()


def test_export_ocds_names_its_jurisdiction_and_writes_nothing_when_there_is_nothing(
    procurement_port: dict[str, str], tmp_path: Path
) -> None:
    env = procurement_port
    token = bearer(Role.AUTHORITY, jurisdictions=["lhasa"])["Authorization"].split()[1]
    unnamed = govit(env | {"GOVIT_TOKEN": token}, "ocds")
    assert unnamed.returncode == 2 and "--jurisdiction" in unnamed.stderr, unnamed.stderr
    target = tmp_path / "ocds.json"
    empty = govit(env | {"GOVIT_TOKEN": token}, "ocds", "-j", "lhasa", "-o", str(target))
    assert empty.returncode == 0 and "nothing to publish" in empty.stderr, empty.stderr
    assert not target.exists()
    refused = govit(env | {"GOVIT_TOKEN": token}, "ocds", "-j", "zhonglou", "-o", str(target))
    assert refused.returncode == 1 and "403" in refused.stderr, refused.stderr
