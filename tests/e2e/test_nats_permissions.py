"""NATS users from `govit nats-config` on a real nats-server: a service publishes only its own
events, so a source of `/govit/acceptance` can only come from acceptance.

The server runs the authorization block the command prints; funding runs under its own user
(consumer, relay, dead letters) while intake, an outside publisher and a subscriber try what
their users allow and what they do not.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from govit.devnats import EmbeddedNats
from govit.natsauth import NatsUser
from services.funding.main import create_app as create_funding
from services.funding.settings import FundingSettings
from shared.auth import Role
from shared.bus import Ack, Delivery, JetStreamBus
from shared.contracts import Event, encode, subject_for
from shared.contracts.acceptance import FinalAcceptanceConcluded
from shared.contracts.intake import ProjectApproved, ProjectDeclared
from shared.contracts.procurement import ContractFiled, Milestone
from tests.conftest import bearer, eventually, running

# each service's NATS user
pytestmark = pytest.mark.services("intake", "review", "procurement", "acceptance", "funding")

ROOT = Path(__file__).resolve().parents[2]
PUBLISHER = "project-system"
SUBSCRIBER = "city-dashboard"
USERS = ("intake", "review", "procurement", "acceptance", "funding", PUBLISHER, SUBSCRIBER, "admin")
FINANCE = bearer(Role.FINANCE, sub="财政局")


@dataclass
class Server:
    host: str
    port: int
    passwords: dict[str, str]

    def url(self, user: str, password: str | None = None) -> str:
        return f"nats://{user}:{password or self.passwords[user]}@{self.host}:{self.port}"


def nats_config() -> str:
    """What an operator runs, as a process."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "govit.cli",
            "nats-config",
            "--publisher",
            f"{PUBLISHER}=govit.intake.project_approved.v1@zhonglou",
            "--subscriber",
            SUBSCRIBER,
        ],
        env={**os.environ, "GOVIT_STREAM": "GOVIT", "GOVIT_SUBJECT_PREFIX": "govit"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return done.stdout


def password_variable(user: str) -> str:
    return NatsUser(user, (), ()).password_variable


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    # Letter first, as `govit nats-config` asks: nats-server refuses a value like "-Nx…" or "1-x…".
    passwords = {user: "p" + secrets.token_urlsafe(16) for user in USERS}
    env = {password_variable(user): password for user, password in passwords.items()}
    with EmbeddedNats(tmp_path_factory.mktemp("nats-auth"), extra_config=nats_config(), env=env) as embedded:
        yield Server(embedded.host, embedded.port, passwords)


@pytest.fixture
async def admin(server: Server) -> AsyncIterator[JetStreamBus]:
    bus = JetStreamBus(server.url("admin"), stream="GOVIT", prefix="govit")
    await bus.connect(timeout=10)
    await bus.ensure_stream()
    try:
        yield bus
    finally:
        await bus.close()


@pytest.fixture
async def bus_of(server: Server) -> AsyncIterator[Any]:
    opened: list[JetStreamBus] = []

    async def connect(user: str) -> JetStreamBus:
        bus = JetStreamBus(server.url(user), stream="GOVIT", prefix="govit", name=f"test-{user}")
        await bus.connect(timeout=10)
        opened.append(bus)
        return bus

    yield connect
    for bus in opened:
        await bus.close()


async def stored(bus: JetStreamBus, event: Event, source: str, *, timeout: float = 2) -> bool:
    """Publish as JetStream clients do and say whether the stream acknowledged it."""
    event_id = str(uuid.uuid4())
    try:
        await bus.nc.jetstream().publish(
            subject_for("govit", event),
            encode(event, source=source, event_id=event_id),
            headers={"Nats-Msg-Id": event_id},
            timeout=timeout,
        )
    except (nats.errors.Error, TimeoutError):
        return False
    return True


async def on_stream(admin: JetStreamBus, subject: str) -> bool:
    try:
        await admin.nc.jetstream().get_last_msg("GOVIT", subject)
    except nats.js.errors.NotFoundError:
        return False
    return True


def project() -> dict[str, str]:
    return {"project_id": f"p{uuid.uuid4().hex[:10]}", "jurisdiction": "zhonglou", "agency": "区卫健委"}


def declared(p: dict[str, str]) -> ProjectDeclared:
    return ProjectDeclared(**p, title="智慧医疗平台", kind="construction", amount_fen=100_000_000)


def accepted(p: dict[str, str]) -> FinalAcceptanceConcluded:
    return FinalAcceptanceConcluded(**p, passed=True, concluded_on=date(2027, 11, 1))


def contract(p: dict[str, str]) -> ContractFiled:
    return ContractFiled(
        **p,
        contract_id=f"c{uuid.uuid4().hex[:8]}",
        role="construction",
        counterparty="某某信息技术有限公司",
        credit_code="91320400MA1XXXXX0A",
        amount_fen=90_000_000,
        signed_on=date(2027, 3, 1),
        filed_on=date(2027, 3, 2),
        milestones=(
            Milestone(name="终验款", stage="final_acceptance", share_percent="100", amount_fen=90_000_000),
        ),
    )


async def test_a_service_publishes_its_own_events_and_not_another_services(
    server: Server, admin: JetStreamBus, bus_of: Any
) -> None:
    intake = await bus_of("intake")
    p = project()
    assert await stored(intake, declared(p), "/govit/intake")
    # intake forging acceptance's verdict: refused by the server, never on the stream.
    assert not await stored(intake, accepted({**p}), "/govit/acceptance")
    assert not await on_stream(admin, subject_for("govit", accepted(p)))
    assert await on_stream(admin, subject_for("govit", declared(p)))
    # The outside publisher: the type it is trusted with, nothing else.
    system = await bus_of(PUBLISHER)
    approval = ProjectApproved(
        **{k: p[k] for k in ("project_id", "jurisdiction")}, approved_amount_fen=1, plan_year=2027
    )
    assert await stored(system, approval, "urn:gov:zhonglou:project-system")
    assert not await stored(system, contract(p), "urn:gov:zhonglou:project-system")
    # … and only for the jurisdiction it speaks for: a 拉萨市 approval is refused by the server.
    lhasa = approval.model_copy(update={"jurisdiction": "lhasa"})
    assert not await stored(system, lhasa, "urn:gov:zhonglou:project-system")
    assert not await on_stream(admin, subject_for("govit", lhasa))


async def test_a_wrong_password_is_refused(server: Server) -> None:
    errors: list[Exception] = []

    async def on_error(exc: Exception) -> None:
        errors.append(exc)

    with pytest.raises(Exception, match=r"(?i)authorization"):
        await asyncio.wait_for(
            nats.connect(
                server.url("funding", "not-the-password"),
                allow_reconnect=False,
                connect_timeout=3,
                error_cb=on_error,
            ),
            10,
        )


async def test_a_subscriber_reads_with_its_own_consumer_and_cannot_take_a_services(
    server: Server, admin: JetStreamBus, bus_of: Any
) -> None:
    intake = await bus_of("intake")
    p = project()
    assert await stored(intake, declared(p), "/govit/intake")
    reader = await bus_of(SUBSCRIBER)
    got: list[Delivery] = []
    stop = asyncio.Event()

    async def handle(delivery: Delivery) -> Ack:
        got.append(delivery)
        if p["project_id"] in delivery.subject:
            stop.set()
        return Ack()

    consuming = asyncio.create_task(
        reader.consume(SUBSCRIBER, [f"govit.events.*.{p['project_id']}.>"], handle, stop, max_deliver=5)
    )
    await asyncio.wait_for(consuming, 20)
    assert [d.subject for d in got] == [subject_for("govit", declared(p))]
    # Its user may not work funding's durable consumer, nor publish events.
    js = reader.nc.jetstream()
    with pytest.raises((nats.errors.Error, TimeoutError)):
        await js.add_consumer(
            "GOVIT", ConsumerConfig(durable_name="funding", ack_policy=AckPolicy.EXPLICIT), timeout=2
        )
    assert not await stored(reader, declared(project()), "/govit/intake")


async def test_funding_runs_under_its_own_user(
    server: Server, admin: JetStreamBus, bus_of: Any, tmp_path: Path
) -> None:
    """Consumer, relay and dead letters all work within funding's permissions, and a forged
    acceptance from a service that may not publish it never reaches funding."""
    settings = FundingSettings(
        database_url=f"sqlite+aiosqlite:///{tmp_path / 'funding.db'}",
        nats_url=server.url("funding"),
        stream="GOVIT",
        subject_prefix="govit",
        var_dir=tmp_path,
        environment="test",
        trusted_sources={
            "govit.intake.project_approved.v1": {"urn:gov:zhonglou:project-system": ["zhonglou"]}
        },
    )
    intake = await bus_of("intake")
    procurement = await bus_of("procurement")
    acceptance = await bus_of("acceptance")
    system = await bus_of(PUBLISHER)
    p = project()
    async with running(create_funding(settings)) as http:
        assert await stored(intake, declared(p), "/govit/intake")
        approval = ProjectApproved(
            project_id=p["project_id"],
            jurisdiction="zhonglou",
            approved_amount_fen=100_000_000,
            plan_year=2027,
        )
        assert await stored(system, approval, "urn:gov:zhonglou:project-system")
        filed = contract(p)
        assert await stored(procurement, filed, "/govit/procurement")

        async def held() -> Any:
            response = await http.post(
                f"/projects/{p['project_id']}/disbursements",
                headers=bearer(Role.APPLICANT, p["agency"]),
                json={"kind": "final", "amount_fen": 10_000_000, "purpose": "尾款"},
            )
            return response.json() if response.status_code == 202 else None

        payment = await eventually(held, what="the final payment held for the acceptance")
        # The relay published funding's own event under funding's user.
        hold = f"govit.events.zhonglou.{p['project_id']}.funding.>"
        await eventually(lambda: _any_on_stream(admin, hold), what="funding's events on the stream")
        # Forged by intake: refused at the broker. Published by acceptance: released.
        assert not await stored(intake, accepted(p), "/govit/acceptance")
        await asyncio.sleep(0.5)
        status = (await http.get(f"/disbursements/{payment['id']}", headers=FINANCE)).json()["status"]
        assert status == "held"
        assert await stored(acceptance, accepted(p), "/govit/acceptance")

        async def released() -> bool:
            response = await http.get(f"/disbursements/{payment['id']}", headers=FINANCE)
            return bool(response.json()["status"] == "released")

        await eventually(released, what="the final payment released")
        # A dead letter goes out under funding's user too (a mismatched subject).
        garbage = "govit.events.zhonglou.x.intake.project_declared.v1"
        await intake.nc.jetstream().publish(garbage, b"not an event", timeout=2)
        await eventually(lambda: _any_on_stream(admin, "govit.dlq.funding"), what="the dead letter")
    # At shutdown funding anchored its audit head under its own user; intake may not publish one.
    anchors = "govit.audit.funding.anchored.v1"
    assert await _any_on_stream(admin, anchors)
    with pytest.raises((nats.errors.Error, TimeoutError)):
        await intake.nc.jetstream().publish(anchors, b"{}", timeout=2)


async def _any_on_stream(admin: JetStreamBus, subject: str) -> bool:
    info = await admin.nc.jetstream().stream_info("GOVIT", subjects_filter=subject)
    return bool(info.state.subjects)
