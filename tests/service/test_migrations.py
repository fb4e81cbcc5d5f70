"""Every service's migrations go up, down and up again on SQLite and PostgreSQL; data is carried over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic import command
from sqlalchemy import Connection, text

from shared.db import create_engine
from shared.engine import _alembic_config

SERVICES = ("intake", "review", "procurement", "acceptance", "funding")
ROOT = Path(__file__).resolve().parents[2] / "services"


async def _run(url: str, migrations: Path, *steps: tuple[str, str]) -> None:
    engine = create_engine(url)

    def go(connection: Connection) -> None:
        for verb, revision in steps:
            getattr(command, verb)(_alembic_config(migrations, connection), revision)

    try:
        async with engine.begin() as conn:
            await conn.run_sync(go)
    finally:
        await engine.dispose()


@pytest.mark.services("intake", "review", "procurement", "acceptance", "funding", by="service")
@pytest.mark.parametrize("service", SERVICES)
async def test_migrations_go_up_down_and_up_again(service: str, make_database: Any) -> None:
    url = await make_database(service)
    migrations = ROOT / service / "migrations"
    await _run(url, migrations, ("upgrade", "head"), ("downgrade", "base"), ("upgrade", "head"))
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            assert await conn.scalar(text("SELECT count(*) FROM outbox")) == 0
    finally:
        await engine.dispose()


@pytest.mark.services("funding")
async def test_funding_opens_the_gates_of_projects_approved_before_the_ledger(make_database: Any) -> None:
    url = await make_database("funding")
    migrations = ROOT / "funding" / "migrations"
    await _run(url, migrations, ("upgrade", "0001"))
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO projects (id, jurisdiction, agency, title, declared_amount_fen, approved,"
                    " approved_amount_fen) VALUES ('p1', 'zhonglou', '区教育局', '平台', 100, :yes, 100),"
                    " ('p2', 'zhonglou', '区教育局', '平台二', 100, :no, NULL)"
                ),
                {"yes": True, "no": False},
            )
        await _run(url, migrations, ("upgrade", "head"))
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT project_id, gate, open FROM gates ORDER BY gate"))).all()
            kinds = await conn.scalar(text("SELECT count(*) FROM projects WHERE kind = 'construction'"))
    finally:
        await engine.dispose()
    assert [(r[0], r[1], bool(r[2])) for r in rows] == [("p1", "approval", True), ("p1", "plan", True)]
    assert kinds == 2


@pytest.mark.services("review")
async def test_experts_of_the_one_pool_go_into_every_jurisdictions_pool_and_come_back(
    make_database: Any,
) -> None:
    # Before pools, 张工 could sit on any jurisdiction's panel, and sat on a lhasa case.
    url = await make_database("review")
    migrations = ROOT / "review" / "migrations"
    await _run(url, migrations, ("upgrade", "0009"))
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO experts (id, name, employer, title, specialties, status, status_reason,"
                    " created_at, subject) VALUES ('e1', '张工', '某研究院', '', '[\"software\"]',"
                    " 'blacklisted', '失信', '2026-01-01 00:00:00+00:00', 'zhang')"
                )
            )
        await _run(url, migrations, ("upgrade", "head"))
        async with engine.connect() as conn:
            query = text("SELECT id, pool, subject, status FROM experts ORDER BY pool")
            rows = (await conn.execute(query)).all()
        # One entry per pool, each with the login and the status it had; the first keeps its id.
        assert [r.pool for r in rows] == ["bayingolin", "lhasa", "shexian", "xunyang", "zhonglou"]
        assert {(r.subject, r.status) for r in rows} == {("zhang", "blacklisted")}
        assert rows[0].id == "e1" and len({r.id for r in rows}) == 5
        await _run(url, migrations, ("downgrade", "0009"))
        async with engine.connect() as conn:
            back = (await conn.execute(text("SELECT id, subject FROM experts"))).all()
        assert [(r.id, r.subject) for r in back] == [("e1", "zhang")]
        await _run(url, migrations, ("upgrade", "head"))
    finally:
        await engine.dispose()


@pytest.mark.services("acceptance")
async def test_events_already_in_the_outbox_take_their_project_from_their_subject(make_database: Any) -> None:
    url = await make_database("acceptance")
    migrations = ROOT / "acceptance" / "migrations"
    await _run(url, migrations, ("upgrade", "0008"))
    engine = create_engine(url)
    subject = "govit.events.zhonglou.{}.acceptance.final_acceptance_concluded.v1"
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO outbox (event_id, event_type, subject, body, headers, created_at)"
                    " VALUES (:id, 'govit.acceptance.final_acceptance_concluded.v1', :subject, :body, '{}',"
                    " '2026-01-01 00:00:00+00:00')"
                ),
                [
                    {"id": "e1", "subject": subject.format("p-1"), "body": b"{}"},
                    {"id": "e2", "subject": subject.format("p_2"), "body": b"{}"},
                ],
            )
        await _run(url, migrations, ("upgrade", "head"))
        async with engine.connect() as conn:
            rows = (await conn.execute(text("SELECT event_id, project_id FROM outbox ORDER BY seq"))).all()
    finally:
        await engine.dispose()
    assert [tuple(r) for r in rows] == [("e1", "p-1"), ("e2", "p_2")]


@pytest.mark.services("intake", "review", "procurement", "acceptance", "funding")
def test_the_head_is_the_revision_no_other_revises() -> None:
    from shared.engine import head_revision

    heads = {service: head_revision(ROOT / service / "migrations") for service in SERVICES}
    for service, head in heads.items():
        files = sorted((ROOT / service / "migrations" / "versions").glob("[0-9]*.py"))
        assert head == files[-1].name.split("_")[0], service


_PROBE = """
import asyncio, sys
from pathlib import Path
from shared.engine import create_engine, migrate

async def main(url: str, migrations: str) -> None:
    engine = create_engine(url)
    await migrate(engine, Path(migrations))
    await engine.dispose()

asyncio.run(main(sys.argv[1], sys.argv[2]))
print("alembic" in sys.modules)
"""


@pytest.mark.services("funding")
async def test_a_database_at_head_starts_without_loading_alembic(make_database: Any) -> None:
    """A service restarting on its migrated database does not import Alembic (nor Mako and Pygments
    behind it): the process stays smaller. A database behind the head is migrated as before."""
    import subprocess
    import sys

    url = await make_database("funding")
    migrations = str(ROOT / "funding" / "migrations")

    def probe() -> str:
        done = subprocess.run(
            [sys.executable, "-c", _PROBE, url, migrations], capture_output=True, text=True, check=True
        )
        return done.stdout.strip()

    assert probe() == "True"  # a new database: migrated
    assert probe() == "False"  # at head: nothing to load
    await _run(url, ROOT / "funding" / "migrations", ("downgrade", "0008"))
    assert probe() == "True"  # one behind: migrated again
