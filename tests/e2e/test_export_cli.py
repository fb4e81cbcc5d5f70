"""`govit export` writes a running service's report to a file, as the token's holder may see it,
and says in a line what is missing or refused."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from govit.devnats import free_port
from services.funding.reports import LEDGER
from shared.auth import Role
from tests.conftest import bearer, unique

pytestmark = [pytest.mark.slow, pytest.mark.services("funding")]


@pytest.fixture
def funding_port(tmp_path: Path, nats_url: str) -> Iterator[dict[str, str]]:
    tag = unique()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")}
    env |= {
        "GOVIT_VAR_DIR": str(tmp_path / "var"),
        "GOVIT_NATS_URL": nats_url,
        "GOVIT_FUNDING_PORT": str(free_port()),
        "GOVIT_STREAM": tag.upper(),
        "GOVIT_SUBJECT_PREFIX": tag,
    }
    service = subprocess.Popen(
        [sys.executable, "-m", "govit.serve", "funding"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{env['GOVIT_FUNDING_PORT']}/readyz").status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and service.poll() is None, "funding did not start"
            time.sleep(0.3)
        yield env
    finally:
        service.terminate()
        service.wait(timeout=30)


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
