"""The audit log: every state change with its actor, before and after, hash-chained.

The mechanism is tested on a small table of its own (ORM and Core writes, rollbacks, tampering)
on SQLite and PostgreSQL; then through the funding service (a person's request and another
service's event, each named as the actor) and `govit audit verify` on a tampered database.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import registry

from shared import audit
from shared.auth import Role
from shared.contracts import Event
from shared.db import UnitOfWork, create_engine, infrastructure
from tests import test_funding_service as service
from tests.conftest import bearer
from tests.test_funding_service import FINANCE, WAN, Funding, approved, pay

funding = service.funding  # the funding service fixture, on this module's backends

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("colour", String(16), nullable=False),
    Column("count", Integer, nullable=False),
)


@dataclass
class Thing:
    id: str
    colour: str
    count: int = 0
    events: list[Event] = field(default_factory=list)


registry(metadata=metadata).map_imperatively(Thing, things)


@pytest.fixture
async def engine(make_database: Any) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await make_database("audit"))
    async with engine.begin() as conn:
        for tables in (metadata, infrastructure, audit.audit_metadata):
            await conn.run_sync(tables.create_all)
    yield engine
    await engine.dispose()


def unit(engine: AsyncEngine) -> UnitOfWork:
    return UnitOfWork(async_sessionmaker(engine, expire_on_commit=False), source="/t", subject_prefix="t")


async def entries(engine: AsyncEngine) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(audit.audit_log).order_by(audit.audit_log.c.n))
        return [dict(r._mapping) for r in rows]


async def verdict(engine: AsyncEngine) -> audit.Verdict:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: audit.verify(c))


async def test_orm_and_core_changes_are_logged_with_actor_before_and_after(engine: AsyncEngine) -> None:
    token = audit.current_actor.set({"kind": "user", "sub": "张三", "role": "authority"})
    try:
        async with unit(engine) as uow:
            uow.session.add(Thing("a", "red", 1))
            uow.session.add(Thing("b", "blue", 2))
            await uow.commit()
        async with unit(engine) as uow:
            thing = await uow.session.get(Thing, "a")
            assert thing is not None
            thing.colour, thing.count = "green", 5
            await uow.session.flush()  # an early flush does not lose the values from before it
            thing.count = 6
            await uow.session.delete(await uow.session.get(Thing, "b"))  # flushed at commit
            await uow.session.execute(things.insert().values(id="c", colour="white", count=0))
            await uow.session.execute(update(things).where(things.c.id == "c").values(count=9))
            await uow.session.execute(things.delete().where(things.c.id == "c"))
            await uow.commit()
    finally:
        audit.current_actor.reset(token)
    async with unit(engine) as uow:
        uow.session.add(Thing("d", "black"))
        await uow.rollback()  # nothing rolled back is logged
    async with unit(engine) as uow:
        uow.session.add(Thing("e", "grey"))
        await uow.commit()  # no actor set: the system

    logged = await entries(engine)
    summary = [(e["n"], e["entity"], e["key"], e["action"], e["before"], e["after"]) for e in logged]
    assert summary == [
        (1, "things", '["a"]', "insert", None, {"id": "a", "colour": "red", "count": 1}),
        (2, "things", '["b"]', "insert", None, {"id": "b", "colour": "blue", "count": 2}),
        (3, "things", '["a"]', "update", {"colour": "red", "count": 1}, {"colour": "green", "count": 6}),
        (4, "things", '["c"]', "insert", None, {"id": "c", "colour": "white", "count": 0}),
        (5, "things", '["c"]', "update", {"count": 0}, {"count": 9}),
        (6, "things", '["c"]', "delete", {"id": "c", "colour": "white", "count": 9}, None),
        (7, "things", '["b"]', "delete", {"id": "b", "colour": "blue", "count": 2}, None),
        (8, "things", '["e"]', "insert", None, {"id": "e", "colour": "grey", "count": 0}),
    ]
    assert {e["actor"]["sub"] for e in logged[:7]} == {"张三"}
    assert logged[7]["actor"] == {"kind": "system"}
    assert logged[0]["prev_hash"] == audit.GENESIS
    assert all(later["prev_hash"] == earlier["hash"] for earlier, later in itertools.pairwise(logged))
    found = await verdict(engine)
    assert found.intact and found.checked == 8 and found.head_n == 8 and found.head_hash == logged[-1]["hash"]


async def logged_three(engine: AsyncEngine) -> None:
    for name in ("x", "y", "z"):
        async with unit(engine) as uow:
            uow.session.add(Thing(name, "red"))
            await uow.commit()
    assert (await verdict(engine)).intact


@pytest.mark.parametrize(
    ("tampering", "at_entry", "problem"),
    [
        ("""UPDATE audit_log SET after = '{"id": "y", "colour": "gold"}' WHERE n = 2""", 2, "改动"),
        ('UPDATE audit_log SET actor = \'{"kind": "user", "sub": "某人"}\' WHERE n = 1', 1, "改动"),
        ("DELETE FROM audit_log WHERE n = 2", 2, "缺失"),
        ("DELETE FROM audit_log WHERE n = 3", 3, "链尾"),
        ("UPDATE audit_head SET n = 2", 3, "链尾"),
    ],
)
async def test_altering_or_deleting_an_entry_is_detected(
    engine: AsyncEngine, tampering: str, at_entry: int, problem: str
) -> None:
    await logged_three(engine)
    async with engine.begin() as conn:
        await conn.execute(text(tampering))
    found = await verdict(engine)
    assert not found.intact
    assert found.at_entry == at_entry and problem in (found.problem or ""), found


async def test_a_rehashed_entry_still_breaks_the_link_of_the_next(engine: AsyncEngine) -> None:
    """Recomputing the altered entry's own hash is not enough: the next entry points to the old one."""
    await logged_three(engine)
    async with engine.begin() as conn:
        second = select(audit.audit_log).where(audit.audit_log.c.n == 2)
        row = dict((await conn.execute(second)).one()._mapping)
        row["after"] = {"id": "y", "colour": "gold", "count": 0}
        forged = audit.entry_hash(row)
        await conn.execute(
            update(audit.audit_log).where(audit.audit_log.c.n == 2).values(after=row["after"], hash=forged)
        )
    found = await verdict(engine)
    assert not found.intact and found.at_entry == 3 and "前序哈希" in (found.problem or "")


# -- through a service ---------------------------------------------------------------------------------


async def test_the_funding_service_logs_requests_and_events_and_auditors_verify_it(
    funding: Funding, tmp_path: Path
) -> None:
    f = funding
    project = await approved(f, "shexian")
    response = await pay(f, project, 10 * WAN)
    assert response.status_code == 201, response.text
    payment = response.json()["id"]

    auditor = bearer(Role.AUDITOR, sub="审计局")
    assert (await f.http.get("/audit", headers=FINANCE)).status_code == 403
    listed = await f.http.get("/audit", params={"entity": "disbursements", "key": payment}, headers=auditor)
    assert listed.status_code == 200, listed.text
    (created,) = listed.json()["items"]
    assert created["action"] == "insert" and created["after"]["amount_fen"] == 10 * WAN
    assert created["actor"]["kind"] == "user" and created["actor"]["agency"] == project["agency"]

    mine = {"entity": "projects", "key": project["id"]}
    approval = await f.http.get("/audit", params=mine, headers=auditor)
    actions = [(e["action"], e["actor"]["kind"], e["actor"].get("type")) for e in approval.json()["items"]]
    assert ("insert", "event", "govit.intake.project_declared.v1") in actions
    assert ("update", "event", "govit.intake.project_approved.v1") in actions

    verified = await f.http.get("/audit/verification", headers=auditor)
    assert verified.status_code == 200 and verified.json()["intact"] is True, verified.text
    assert verified.json()["head_n"] >= 4


async def test_an_auditor_reads_the_entries_of_their_own_jurisdictions_only(funding: Funding) -> None:
    f = funding
    # A project of each jurisdiction: declared, planned and approved by events, then paid.
    zhonglou, lhasa = await approved(f, "zhonglou"), await approved(f, "lhasa")
    for project in (zhonglou, lhasa):
        assert (await pay(f, project, 10 * WAN)).status_code in (201, 202)

    async def entries(who: dict[str, str]) -> list[dict[str, Any]]:
        page = await f.http.get("/audit", params={"limit": 200}, headers=who)
        assert page.status_code == 200 and page.json()["total"] <= 200, page.text
        return list(page.json()["items"])

    everything = await entries(bearer(Role.ADMIN, sub="管理员"))
    seen = {}
    for code, project, other in (("zhonglou", zhonglou, lhasa), ("lhasa", lhasa, zhonglou)):
        mine = await entries(bearer(Role.AUDITOR, sub=f"{code}审计局", jurisdictions=[code]))
        text = str(mine)
        assert project["id"] in text and other["id"] not in text and other["agency"] not in text
        # The project's update carries only the columns it changed, yet is the project's entry.
        updates = [e for e in mine if e["entity"] == "projects" and e["action"] == "update"]
        assert updates and all(e["key"] == [project["id"]] for e in updates)
        # The gates are rows of the project (project_id only), found through it.
        assert {e["after"]["project_id"] for e in mine if e["entity"] == "gates" and e["after"]} == {
            project["id"]
        }
        seen[code] = {e["n"] for e in mine}
    # Between them the two auditors see every entry, none twice.
    assert seen["zhonglou"] | seen["lhasa"] == {e["n"] for e in everything}
    assert not seen["zhonglou"] & seen["lhasa"]
    both = await entries(bearer(Role.AUDITOR, sub="审计厅", jurisdictions=["zhonglou", "lhasa"]))
    assert len(both) == len(everything)


async def test_govit_audit_verify_names_the_altered_entry(engine: AsyncEngine) -> None:
    await logged_three(engine)
    url = engine.url.render_as_string(hide_password=False)
    govit = [sys.executable, "-m", "shared.cli", "audit", "verify", "funding", "--db-url", url]
    env = {**os.environ, "GOVIT_ENVIRONMENT": "development"}
    ok = await asyncio.to_thread(subprocess.run, govit, capture_output=True, text=True, env=env, timeout=120)
    assert ok.returncode == 0 and "intact  3 entries" in ok.stdout, ok.stdout + ok.stderr
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE audit_log SET entity = 'other' WHERE n = 2"))
    broken = await asyncio.to_thread(
        subprocess.run, govit, capture_output=True, text=True, env=env, timeout=120
    )
    assert broken.returncode == 1 and "BROKEN  第 2 条记录内容被改动" in broken.stdout, broken.stdout


async def test_no_commit_of_an_audited_session_goes_without_its_entries(engine: AsyncEngine) -> None:
    async with unit(engine) as uow:
        uow.session.add(Thing("f", "pink"))
        await uow.session.commit()  # the session's own commit, not the unit of work's
    assert [(e["key"], e["action"]) for e in await entries(engine)] == [('["f"]', "insert")]
    async with unit(engine) as uow:
        with pytest.raises(NotImplementedError):
            await uow.session.execute(update(Thing).where(things.c.id == "f").values(count=3))
    assert (await verdict(engine)).intact


async def test_a_chain_rewritten_from_the_start_is_caught_against_a_kept_head(engine: AsyncEngine) -> None:
    await logged_three(engine)
    kept = (await verdict(engine)).head_hash
    # Someone with write access alters entry 2 and recomputes every hash after it, and the head.
    async with engine.begin() as conn:
        chain = await conn.execute(select(audit.audit_log).order_by(audit.audit_log.c.n))
        rows = [dict(r._mapping) for r in chain]
        rows[1]["after"] = {"id": "y", "colour": "gold", "count": 0}
        previous = rows[0]["hash"]
        for entry in rows[1:]:
            entry["prev_hash"] = previous
            entry["hash"] = previous = audit.entry_hash(entry)
            await conn.execute(
                update(audit.audit_log)
                .where(audit.audit_log.c.n == entry["n"])
                .values(after=entry["after"], prev_hash=entry["prev_hash"], hash=entry["hash"])
            )
        await conn.execute(update(audit.audit_head).values(hash=previous))
    assert (await verdict(engine)).intact  # the chain alone cannot tell
    url = engine.url.render_as_string(hide_password=False)
    govit = [sys.executable, "-m", "shared.cli", "audit", "verify", "funding", "--db-url", url]
    env = {**os.environ, "GOVIT_ENVIRONMENT": "development"}
    caught = await asyncio.to_thread(
        subprocess.run,
        [*govit, "--expect", f"3:{kept}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert caught.returncode == 1 and "第 3 条记录与留存的链头" in caught.stdout, (
        caught.stdout + caught.stderr
    )
