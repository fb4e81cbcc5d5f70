"""The audit log: every state change with its actor, before and after, hash-chained.

The mechanism is tested on a small table of its own (ORM and Core writes, rollbacks, tampering)
on SQLite and PostgreSQL; then through the funding service (a person's request and another
service's event, each named as the actor) and `govit audit verify` on a tampered database.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError
from pysmx.SM3 import SM3Type
from sqlalchemy import Column, Integer, MetaData, String, Table, select, text, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import registry

from govit.audit_state import Difference, compare
from services.funding.main import create_app as create_funding
from services.funding.settings import FundingSettings
from shared import audit
from shared.audit_anchor import AnchorPublisher, is_genuine, make_anchor, open_chain, stored_anchors
from shared.audit_key import LEGACY, AuditKey, canonical, entry_hash, environment_key, key_for
from shared.audit_verify import Verdict, verify
from shared.auth import Role
from shared.bus import JetStreamBus
from shared.contracts import Event
from shared.contracts.audit import anchor_subject, decode_anchor, encode_anchor
from shared.db import UnitOfWork, create_engine, infrastructure
from shared.membus import InMemoryBus
from shared.settings import GovitSettings
from tests.conftest import EVENT_CLOCKS, bearer, real_bus, running
from tests.intake_flow import Clock
from tests.service import test_funding_service as service
from tests.service.test_funding_service import FINANCE, WAN, Funding, approved, pay
from tests.service.test_migrations import ROOT as MIGRATIONS
from tests.service.test_migrations import _run as migrate_to

funding = service.funding  # the funding service fixture, on this module's backends

metadata = MetaData()
things = Table(
    "things",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("colour", String(16), nullable=False),
    Column("count", Integer, nullable=False),
)

notes = Table(  # a key the database generates
    "notes",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("text", String(32), nullable=False),
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


def cli_env(nats_url: str, isolation: dict[str, str], **settings: str) -> dict[str, str]:
    """The environment `govit` runs in: this test's NATS, stream and subject prefix."""
    return {
        **os.environ,
        "GOVIT_ENVIRONMENT": "development",
        "GOVIT_NATS_URL": nats_url,
        "GOVIT_STREAM": isolation["stream"],
        "GOVIT_SUBJECT_PREFIX": isolation["subject_prefix"],
        **settings,
    }


async def verdict(engine: AsyncEngine, anchors: dict[int, str] | None = None) -> Verdict:
    async with engine.connect() as conn:
        return await conn.run_sync(lambda c: verify(c, key_for(c), anchors=anchors))


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
        forged = entry_hash(row, environment_key())
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


async def test_govit_audit_verify_names_the_altered_entry(
    engine: AsyncEngine, nats_url: str, isolation: dict[str, str]
) -> None:
    await logged_three(engine)
    url = engine.url.render_as_string(hide_password=False)
    govit = [sys.executable, "-m", "govit.cli", "audit", "verify", "funding", "--db-url", url]
    env = cli_env(nats_url, isolation)
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


async def test_a_chain_rewritten_from_the_start_is_caught_against_a_kept_head(
    engine: AsyncEngine, nats_url: str, isolation: dict[str, str]
) -> None:
    await logged_three(engine)
    kept = (await verdict(engine)).head_hash
    # Someone holding the key and write access alters entry 2 and recomputes every hash after it,
    # and the head.
    async with engine.begin() as conn:
        chain = await conn.execute(select(audit.audit_log).order_by(audit.audit_log.c.n))
        rows = [dict(r._mapping) for r in chain]
        rows[1]["after"] = {"id": "y", "colour": "gold", "count": 0}
        previous = rows[0]["hash"]
        for entry in rows[1:]:
            entry["prev_hash"] = previous
            entry["hash"] = previous = entry_hash(entry, environment_key())
            await conn.execute(
                update(audit.audit_log)
                .where(audit.audit_log.c.n == entry["n"])
                .values(after=entry["after"], prev_hash=entry["prev_hash"], hash=entry["hash"])
            )
        await conn.execute(update(audit.audit_head).values(hash=previous))
    assert (await verdict(engine)).intact  # the chain alone cannot tell
    url = engine.url.render_as_string(hide_password=False)
    govit = [sys.executable, "-m", "govit.cli", "audit", "verify", "funding", "--db-url", url]
    env = cli_env(nats_url, isolation)
    caught = await asyncio.to_thread(
        subprocess.run,
        [*govit, "--expect", f"3:{kept}"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert caught.returncode == 1 and "第 3 条记录与锚定的链头" in caught.stdout, (
        caught.stdout + caught.stderr
    )


# -- the key, the anchors and the state ------------------------------------------------------------


def govit(*args: str, env: dict[str, str]) -> Any:
    command = [sys.executable, "-m", "govit.cli", *args]
    return asyncio.to_thread(subprocess.run, command, capture_output=True, text=True, env=env, timeout=120)


async def test_the_last_entry_rewritten_with_a_plain_sha256_hash_is_found(engine: AsyncEngine) -> None:
    """Without the key, the attacker recomputes the hash as a plain SHA-256 (the old chain's
    hash) and moves the head along: the entry no longer fits, whatever `alg` it claims."""
    await logged_three(engine)
    for claimed in ("hmac-sha256", "sha256"):
        async with engine.begin() as conn:
            last = select(audit.audit_log).where(audit.audit_log.c.n == 3)
            row = dict((await conn.execute(last)).one()._mapping)
            row["after"] = {"id": "z", "colour": "gold", "count": 0}
            body = {
                k: row[k] for k in ("n", "actor", "entity", "key", "action", "before", "after", "prev_hash")
            }
            body["at"] = row["at"].astimezone(UTC).isoformat()
            forged = hashlib.sha256(canonical(body)).hexdigest()
            await conn.execute(
                update(audit.audit_log)
                .where(audit.audit_log.c.n == 3)
                .values(after=row["after"], hash=forged, alg=claimed)
            )
            await conn.execute(update(audit.audit_head).values(hash=forged))
        found = await verdict(engine)
        assert not found.intact and found.at_entry == 3, found
        expected = "内容被改动" if claimed != "sha256" else "未以审计密钥签名"
        assert expected in (found.problem or ""), found


async def test_entries_from_before_the_key_are_sealed_and_stay_verifiable(engine: AsyncEngine) -> None:
    # Two entries written as the chain was before the key: plain SHA-256, `alg` sha256.
    key = environment_key()
    previous = audit.GENESIS
    async with engine.begin() as conn:
        for n, name in ((1, "old-1"), (2, "old-2")):
            entry = {
                "n": n,
                "at": datetime(2026, 1, n, tzinfo=UTC),
                "actor": {"kind": "system"},
                "entity": "things",
                "key": f'["{name}"]',
                "action": "insert",
                "before": None,
                "after": {"id": name, "colour": "red", "count": 0},
                "prev_hash": previous,
                "alg": LEGACY,
            }
            entry["hash"] = previous = entry_hash(entry, key)
            await conn.execute(audit.audit_log.insert().values(**entry))
            await conn.execute(things.insert().values(id=name, colour="red", count=0))
        await conn.execute(audit.audit_head.insert().values(id=1, n=2, hash=previous))
    found = await verdict(engine)
    assert not found.intact and "都未以审计密钥签名" in (found.problem or "")  # not sealed yet

    async with engine.begin() as conn:
        assert await conn.run_sync(lambda c: audit.seal_legacy(c, key)) == 2
        assert await conn.run_sync(lambda c: audit.seal_legacy(c, key)) is None  # once
    await logged_three(engine)
    assert [(e["n"], e["alg"], e["action"]) for e in (await entries(engine))[:4]] == [
        (1, "sha256", "insert"),
        (2, "sha256", "insert"),
        (3, "hmac-sha256", "seal"),
        (4, "hmac-sha256", "insert"),
    ]
    # The unkeyed entries are now covered by the seal's HMAC: altering one is found.
    async with engine.begin() as conn:
        await conn.execute(text("""UPDATE audit_log SET after = '{"id": "old-1"}' WHERE n = 1"""))
    found = await verdict(engine)
    assert not found.intact and found.at_entry == 1 and "改动" in (found.problem or "")


def test_production_refuses_the_default_audit_key(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("GOVIT_AUDIT_KEY", "GOVIT_JWT_SECRET", "GOVIT_CLOCK_FILE"):
        monkeypatch.delenv(variable, raising=False)
    production = {"environment": "production", "jwt_secret": "j" * 40}
    with pytest.raises(ValidationError, match="GOVIT_AUDIT_KEY"):
        GovitSettings(**production)
    with pytest.raises(ValidationError, match="GOVIT_AUDIT_KEY"):
        GovitSettings(**production, audit_key="too-short")
    assert GovitSettings(**production, audit_key="k" * 40).audit_key.get_secret_value() == "k" * 40
    assert GovitSettings(environment="development").audit_hash == "sha256"  # the development default


def test_hmac_sm3_agrees_with_the_standard() -> None:
    """SM3 of "abc" is GB/T 32905's example; HMAC-SM3 agrees with OpenSSL's where it has SM3."""
    assert SM3Type(b"abc").hexdigest() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
    key = AuditKey(b"k" * 100, "sm3")  # longer than a block: hashed first (RFC 2104)
    message = canonical({"n": 1, "名称": "审计"})
    assert key.algorithm == "hmac-sm3" and len(key.mac(message)) == 64
    assert key.mac(message) != AuditKey(b"k" * 100, "sha256").mac(message)
    if "sm3" in hashlib.algorithms_available:
        assert key.mac(message) == hmac.new(b"k" * 100, message, "sm3").hexdigest()


async def test_the_state_check_names_rows_edited_inserted_or_deleted_by_hand(engine: AsyncEngine) -> None:
    await logged_three(engine)
    async with unit(engine) as uow:
        thing = await uow.session.get(Thing, "y")
        assert thing is not None
        thing.count = 7
        await uow.commit()
    tables = [things]

    async def differences() -> list[Difference]:
        async with engine.connect() as conn:
            return await conn.run_sync(lambda c: compare(c, tables))

    assert await differences() == []  # every change went through a unit of work
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE things SET count = count * 100 WHERE id = 'y'"))
        await conn.execute(text("DELETE FROM things WHERE id = 'z'"))
        await conn.execute(text("INSERT INTO things (id, colour, count) VALUES ('w', 'black', 1)"))
    assert await differences() == [
        Difference("things", '["w"]', "unlogged"),
        Difference("things", '["y"]', "changed", "count", 7, 700),
        Difference("things", '["z"]', "gone"),
    ]


async def test_a_service_stops_anchoring_a_chain_that_contradicts_its_own_anchor(engine: AsyncEngine) -> None:
    bus = InMemoryBus(prefix="t")
    key = environment_key()
    publisher = AnchorPublisher(engine, bus, service="funding", key=key, prefix="t", every=60)
    await logged_three(engine)
    first = await publisher.publish()
    assert first is not None and (first.n, first.hash) == (3, (await entries(engine))[-1]["hash"])
    assert await publisher.publish() is None  # the head did not move
    (message,) = bus.on("t.audit.funding.anchored.v1")
    assert is_genuine(decode_anchor(message.data), key)
    # The tail is cut and the head rolled back while the service runs.
    second = (await entries(engine))[1]["hash"]
    async with engine.begin() as conn:
        await conn.execute(text("DELETE FROM audit_log WHERE n = 3"))
        await conn.execute(update(audit.audit_head).values(n=2, hash=second))
    assert await publisher.publish() is None
    assert publisher.contradiction is not None and "第 3 条" in publisher.contradiction
    assert len(bus.on("t.audit.funding.anchored.v1")) == 1


# -- through the funding service, its anchors on a real JetStream, and `govit audit verify` ---------


@pytest.fixture
async def stream(nats_url: str, isolation: dict[str, str]) -> AsyncIterator[JetStreamBus]:
    """This test's stream, kept until the test ends (services come and go on it)."""
    async with real_bus(nats_url, isolation) as bus:
        yield bus


async def funding_settings(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path, **given: Any
) -> FundingSettings:
    return FundingSettings(
        database_url=await make_database("funding"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        **isolation,
        **given,
    )


@contextlib.asynccontextmanager
async def funding_running(settings: FundingSettings, bus: JetStreamBus) -> AsyncIterator[Funding]:
    """The funding service from start to shutdown (when it anchors its final head)."""
    clock = Clock(datetime(2026, 3, 2, 2, 0, tzinfo=UTC))
    EVENT_CLOCKS[bus] = clock  # the events the test publishes are dated by funding's clock
    async with running(create_funding(settings, clock=clock)) as http:
        yield Funding(http, bus, clock)


async def a_paid_project(f: Funding) -> str:
    project = await approved(f, "shexian")
    response = await pay(f, project, 10 * WAN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def test_a_cut_tail_with_the_head_rolled_back_is_found_against_the_anchor(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path, stream: JetStreamBus
) -> None:
    settings = await funding_settings(make_database, nats_url, isolation, tmp_path)
    async with funding_running(settings, stream) as f:
        await a_paid_project(f)
    # At shutdown funding anchored its head on the stream.
    (stored,) = await stored_anchors(stream, "funding")
    anchor = stored.anchor
    assert anchor is not None and is_genuine(anchor, environment_key()) and anchor.n >= 4
    engine = create_engine(settings.db_url)
    try:
        # Someone with the database cuts the last two entries and rolls the head back to fit.
        async with engine.begin() as conn:
            await conn.execute(text("DELETE FROM audit_log WHERE n > :n"), {"n": anchor.n - 2})
            kept = await conn.scalar(text("SELECT hash FROM audit_log WHERE n = :n"), {"n": anchor.n - 2})
            await conn.execute(update(audit.audit_head).values(n=anchor.n - 2, hash=kept))
        assert (await verdict(engine)).intact  # the chain alone fits
    finally:
        await engine.dispose()
    env = cli_env(nats_url, isolation)
    caught = await govit("audit", "verify", "funding", "--db-url", settings.db_url, env=env)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert f"锚定的链头指向第 {anchor.n} 条，日志只有 {anchor.n - 2} 条" in caught.stdout, caught.stdout
    assert caught.stdout.startswith("funding ") and "BROKEN" in caught.stdout


async def test_a_forged_anchor_on_the_stream_is_named(
    engine: AsyncEngine, nats_url: str, isolation: dict[str, str], stream: JetStreamBus
) -> None:
    await logged_three(engine)
    head = (await verdict(engine)).head_hash
    genuine = make_anchor("funding", 3, head, environment_key())
    # Published by someone without the key: a shorter chain, to bless a cut tail.
    forged = make_anchor("funding", 2, head, AuditKey(b"not the audit key"))
    for anchor in (genuine, forged):
        await stream.publish(anchor_subject(stream.prefix, "funding"), encode_anchor(anchor), {})
    url = engine.url.render_as_string(hide_password=False)
    caught = await govit("audit", "verify", "funding", "--db-url", url, env=cli_env(nats_url, isolation))
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "ANCHOR" in caught.stdout and "第 2 条）签名不符" in caught.stdout, caught.stdout
    assert "intact  3 entries" in caught.stdout and "1 anchors held, furthest 3" in caught.stdout


async def test_without_nats_the_chain_is_verified_alone_with_a_warning(engine: AsyncEngine) -> None:
    await logged_three(engine)
    url = engine.url.render_as_string(hide_password=False)
    env = cli_env("nats://127.0.0.1:9", {"stream": "NOWHERE", "subject_prefix": "nowhere"})
    alone = await govit("audit", "verify", "funding", "--db-url", url, env=env)
    assert alone.returncode == 0, alone.stdout + alone.stderr
    assert "NATS 不可达" in alone.stderr and "intact  3 entries" in alone.stdout
    required = await govit("audit", "verify", "funding", "--db-url", url, "--require-anchor", env=env)
    assert required.returncode == 1 and "NO ANCHOR" in required.stdout, required.stdout


async def test_a_disbursement_edited_in_the_database_is_found_by_the_state_check(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path, stream: JetStreamBus
) -> None:
    settings = await funding_settings(make_database, nats_url, isolation, tmp_path)
    async with funding_running(settings, stream) as f:
        payment = await a_paid_project(f)
    env = cli_env(nats_url, isolation)
    check = ("audit", "verify", "funding", "--db-url", settings.db_url, "--state")
    clean = await govit(*check, env=env)
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "与日志一致" in clean.stdout
    # The amount multiplied by 100 by SQL, past the service and its audit log.
    engine = create_engine(settings.db_url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text("UPDATE disbursements SET amount_fen = amount_fen * 100 WHERE id = :id"), {"id": payment}
            )
    finally:
        await engine.dispose()
    caught = await govit(*check, env=env)
    assert caught.returncode == 1, caught.stdout + caught.stderr
    assert "intact" in caught.stdout  # the chain is intact: only the state tells
    expected = f'表 disbursements 主键 ["{payment}"] 列 amount_fen：日志记为 {10 * WAN}，实际为 {1000 * WAN}'
    assert expected in caught.stdout, caught.stdout
    assert f"column amount_fen: logged {10 * WAN}, actual {1000 * WAN}" in caught.stdout


async def test_an_sm3_chain_is_written_anchored_and_verified(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path, stream: JetStreamBus
) -> None:
    secret = "sm3-audit-key-of-this-test-0123456789"
    settings = await funding_settings(
        make_database, nats_url, isolation, tmp_path, audit_hash="sm3", audit_key=secret
    )
    async with funding_running(settings, stream) as f:
        await a_paid_project(f)
        verified = await f.http.get("/audit/verification", headers=bearer(Role.AUDITOR, sub="审计局"))
        assert verified.status_code == 200 and verified.json()["intact"] is True, verified.text
    engine = create_engine(settings.db_url)
    try:
        logged = await entries(engine)
    finally:
        await engine.dispose()
    assert logged and {e["alg"] for e in logged} == {"hmac-sm3"}
    (stored,) = await stored_anchors(stream, "funding")
    assert stored.anchor is not None and stored.anchor.alg == "hmac-sm3"
    assert (stored.anchor.n, stored.anchor.hash) == (logged[-1]["n"], logged[-1]["hash"])

    sm3 = cli_env(nats_url, isolation, GOVIT_AUDIT_HASH="sm3", GOVIT_AUDIT_KEY=secret)
    ok = await govit("audit", "verify", "funding", "--db-url", settings.db_url, env=sm3)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"intact  {len(logged)} entries" in ok.stdout and "1 anchors held" in ok.stdout
    # Another key verifies neither the entries nor the anchor.
    other = {**sm3, "GOVIT_AUDIT_KEY": "another-key-of-at-least-32-characters!"}
    wrong = await govit("audit", "verify", "funding", "--db-url", settings.db_url, env=other)
    assert wrong.returncode == 1 and "第 1 条记录内容被改动" in wrong.stdout, wrong.stdout


async def test_a_chain_from_before_the_key_is_migrated_and_sealed_when_the_service_starts(
    make_database: Any,
) -> None:
    url = await make_database("funding")
    migrations = MIGRATIONS / "funding" / "migrations"
    await migrate_to(url, migrations, ("upgrade", "0004"))  # the audit log as it was before the key
    at = datetime(2026, 1, 5, tzinfo=UTC)
    body = {
        "n": 1,
        "at": at.isoformat(),
        "actor": {"kind": "system"},
        "entity": "projects",
        "key": '["p-old"]',
        "action": "delete",
        "before": {"id": "p-old"},
        "after": None,
        "prev_hash": audit.GENESIS,
    }
    old_hash = hashlib.sha256(canonical(body)).hexdigest()  # how entries were hashed then
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO audit_log (n, at, actor, entity, key, action, before, after,"
                    " prev_hash, hash) VALUES (1, :at, :actor, 'projects', :key, 'delete', :before, NULL,"
                    " :prev, :hash)"
                ),
                {
                    "at": at,
                    "actor": '{"kind": "system"}',
                    "key": body["key"],
                    "before": '{"id": "p-old"}',
                    "prev": audit.GENESIS,
                    "hash": old_hash,
                },
            )
            await conn.execute(text("UPDATE audit_head SET n = 1, hash = :h"), {"h": old_hash})
        await migrate_to(url, migrations, ("upgrade", "head"))
        assert [(e["n"], e["alg"]) for e in await entries(engine)] == [(1, "sha256")]
        # What a service does when it starts, after its migrations.
        settings = FundingSettings(database_url=url, environment="test")
        publisher = await open_chain(engine, InMemoryBus(), service="funding", settings=settings)
        assert publisher.key.algorithm == "hmac-sha256"
        sealed = await entries(engine)
        assert [(e["n"], e["alg"], e["action"]) for e in sealed] == [
            (1, "sha256", "delete"),
            (2, "hmac-sha256", "seal"),
        ]
        assert (await verdict(engine)).intact
    finally:
        await engine.dispose()


async def test_rows_whose_key_the_database_generates_are_logged_with_it(engine: AsyncEngine) -> None:
    async with unit(engine) as uow:
        await uow.session.execute(notes.insert().values(text="一"))
        await uow.session.execute(notes.insert(), [{"text": "二"}, {"text": "三"}])
        await uow.commit()
    logged = [(e["key"], e["after"]["text"]) for e in await entries(engine)]
    assert logged == [("[1]", "一"), ("[2]", "二"), ("[3]", "三")]
    async with engine.connect() as conn:
        assert await conn.run_sync(lambda c: compare(c, [notes])) == []


async def test_writers_that_move_the_head_under_each_other_keep_one_chain(
    engine: AsyncEngine, make_database: Any
) -> None:
    """Each engine remembers the head it wrote; another writer (a replica, here a second engine
    on the same database) or a rolled-back transaction makes that memory stale, and the next
    write reads the head again instead of forking the chain."""
    other = create_engine(engine.url.render_as_string(hide_password=False))
    try:
        async with unit(engine) as uow:
            uow.session.add(Thing("a", "red"))
            await uow.commit()
        async with unit(other) as uow:  # moves the head past what `engine` remembers
            uow.session.add(Thing("b", "blue"))
            await uow.commit()
        async with unit(engine) as uow:
            uow.session.add(Thing("c", "green"))
            await uow.session.flush()
            await uow.session.rollback()  # nothing of it stays
        async with unit(engine) as uow:
            uow.session.add(Thing("d", "black"))
            await uow.commit()

        async def add(bind: AsyncEngine, key: str) -> None:
            async with unit(bind) as uow:
                uow.session.add(Thing(key, "grey"))
                await uow.commit()

        await asyncio.gather(*(add(engine if i % 2 else other, f"x{i}") for i in range(6)))
    finally:
        await other.dispose()
    logged = await entries(engine)
    assert [e["n"] for e in logged] == list(range(1, 10))
    assert {e["key"] for e in logged} == {'["a"]', '["b"]', '["d"]'} | {f'["x{i}"]' for i in range(6)}
    assert (await verdict(engine)).intact
