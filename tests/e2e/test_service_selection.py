"""`make test SERVICE=…` and `pytest --service`: the tests exercising a service, across the tiers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = "tests/service/test_migrations.py"
SAMPLE = [
    "tests/unit/test_funding_rules.py",
    "tests/unit/test_review_rules.py",
    "tests/service/test_authorization.py",
    "tests/service/test_migrations.py",
    "tests/service/test_review_service.py",
    "tests/e2e/test_adopting.py",
    "tests/e2e/test_lifecycle.py",
    "tests/e2e/test_subscriber_example.py",
]


def collect(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def files(out: str) -> set[str]:
    return {line.split("::")[0] for line in out.splitlines() if "::" in line}


def test_a_service_selects_its_unit_service_and_e2e_tests_and_no_others() -> None:
    run = collect("--service=funding", *SAMPLE)
    assert run.returncode == 0, run.stdout + run.stderr
    assert files(run.stdout) == {
        "tests/unit/test_funding_rules.py",
        "tests/service/test_authorization.py",
        "tests/service/test_migrations.py",
        "tests/e2e/test_adopting.py",
        "tests/e2e/test_lifecycle.py",
    }
    # Tests parametrised by service run for funding only.
    authorization = [line for line in run.stdout.splitlines() if "test_authorization.py" in line]
    assert authorization and all(line.endswith("[funding]") for line in authorization), authorization
    migrations = [line for line in run.stdout.splitlines() if "go_up_down_and_up_again" in line]
    assert migrations and all("funding]" in line for line in migrations), migrations


def test_two_services_select_the_tests_of_either() -> None:
    run = collect("--service=review", "--service=funding", *SAMPLE)
    assert run.returncode == 0, run.stdout + run.stderr
    chosen = files(run.stdout)
    assert {"tests/unit/test_review_rules.py", "tests/service/test_review_service.py"} <= chosen
    assert "tests/unit/test_funding_rules.py" in chosen
    assert "tests/e2e/test_subscriber_example.py" not in chosen


def test_an_unknown_service_is_refused_by_pytest_and_by_make() -> None:
    run = collect("--service=fundng", "tests/unit/test_funding_rules.py")
    assert run.returncode == 4 and "未知服务 fundng" in run.stderr, run.stderr
    made = subprocess.run(["make", "test", "SERVICE=fundng"], cwd=ROOT, capture_output=True, text=True)
    assert made.returncode != 0 and "unknown SERVICE fundng" in made.stderr, made.stderr


def test_make_passes_each_service_and_notes_a_missing_postgresql_before_running() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GOVIT_TEST_POSTGRES_URL"}
    dry = subprocess.run(
        ["make", "-n", "test", "SERVICE=review funding"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert dry.returncode == 0, dry.stderr
    assert "pytest --service=review --service=funding" in dry.stdout
    assert "GOVIT_TEST_POSTGRES_URL" in dry.stdout
    given = subprocess.run(
        ["make", "-n", "test", "SERVICE=funding"],
        cwd=ROOT,
        env={**env, "GOVIT_TEST_POSTGRES_URL": "postgresql+asyncpg://u@h:5432/d"},
        capture_output=True,
        text=True,
    )
    assert "GOVIT_TEST_POSTGRES_URL" not in given.stdout, given.stdout


def test_without_a_server_given_or_docker_the_postgresql_tests_run_on_the_embedded_one() -> None:
    env = {k: v for k, v in os.environ.items() if k != "GOVIT_TEST_POSTGRES_URL"}
    env |= {"DOCKER_HOST": "unix:///nonexistent/docker.sock", "CI": "false"}
    skipped = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-rs",
            "-p",
            "no:cacheprovider",
            "-k",
            "postgresql",
            MIGRATIONS,
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert skipped.returncode == 0 and " passed" in skipped.stdout, skipped.stdout
    assert "SKIPPED" not in skipped.stdout and "skipped" not in skipped.stdout, skipped.stdout
