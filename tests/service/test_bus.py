"""The bus interface, run against the in-memory twin for speed and real JetStream for truth."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import nats
import pytest
from pydantic import ValidationError

from shared.bus import (
    DEAD_LETTER_REASON,
    Ack,
    Bus,
    DeadLetter,
    Delivery,
    JetStreamBus,
    Outcome,
    Outgoing,
    PublishIncomplete,
    Retry,
    dead_letter_subject,
)
from shared.membus import InMemoryBus
from tests.conftest import eventually, on_the_stream, real_bus


@pytest.fixture
async def jetstream(nats_url: str, isolation: dict[str, str]) -> AsyncIterator[JetStreamBus]:
    async with real_bus(nats_url, isolation) as real:
        yield real


@pytest.fixture(params=["memory", "jetstream"])
async def bus(request: pytest.FixtureRequest, isolation: dict[str, str]) -> AsyncIterator[Bus]:
    if request.param == "memory":
        yield InMemoryBus(prefix=isolation["subject_prefix"])
        return
    async with real_bus(request.getfixturevalue("nats_url"), isolation) as real:
        yield real


@contextlib.asynccontextmanager
async def consuming(
    bus: Bus, handler: Any, filters: list[str], *, max_deliver: int = 4
) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(bus.consume("c1", filters, handler, stop, max_deliver=max_deliver))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


def subject(bus: Any, name: str) -> str:
    return f"{bus.prefix}.events.zhonglou.p1.test.{name}.v1"


async def test_a_message_published_twice_with_one_id_is_delivered_once(bus: Any) -> None:
    seen: list[bytes] = []

    async def handler(delivery: Delivery) -> Outcome:
        seen.append(delivery.data)
        return Ack()

    for data in (b"one", b"one-again", b"two"):
        msg_id = "m-1" if data.startswith(b"one") else "m-2"
        await bus.publish(subject(bus, "thing"), data, {"Nats-Msg-Id": msg_id})
    async with consuming(bus, handler, [f"{bus.prefix}.events.>"]):
        await eventually(lambda: len(seen) >= 2, what="two deliveries")
        await asyncio.sleep(0.3)
    assert seen == [b"one", b"two"]


async def test_messages_published_together_are_stored_in_order_once_each(bus: Any) -> None:
    seen: list[bytes] = []

    async def handler(delivery: Delivery) -> Outcome:
        seen.append(delivery.data)
        return Ack()

    batch = [Outgoing(subject(bus, "thing"), f"m{i}".encode(), {"Nats-Msg-Id": f"m-{i}"}) for i in range(50)]
    await bus.publish_many(batch)
    await bus.publish_many(batch[40:])  # sent again (a relay retrying): dropped by their ids
    async with consuming(bus, handler, [f"{bus.prefix}.events.>"]):
        await eventually(lambda: len(seen) >= 50, what="fifty deliveries")
        await asyncio.sleep(0.3)
    assert seen == [f"m{i}".encode() for i in range(50)]


async def test_a_message_the_stream_refuses_stops_a_batch_at_what_was_stored(jetstream: JetStreamBus) -> None:
    """A subject outside the stream gets no PubAck: the batch reports the two stored before it."""
    good = [Outgoing(subject(jetstream, "thing"), b"x", {"Nats-Msg-Id": f"ok-{i}"}) for i in range(2)]
    stray = Outgoing(f"{jetstream.prefix}-nowhere.events.x", b"y", {"Nats-Msg-Id": "stray"})
    with pytest.raises(PublishIncomplete) as stopped:
        await jetstream.publish_many([*good, stray, *good])
    assert stopped.value.done == 2


async def test_a_failing_message_is_retried_then_processed(bus: Any) -> None:
    attempts: list[int] = []

    async def handler(delivery: Delivery) -> Outcome:
        attempts.append(delivery.attempt)
        return Retry(0.1) if delivery.attempt < 3 else Ack()

    await bus.publish(subject(bus, "flaky"), b"x", {"Nats-Msg-Id": "f-1"})
    async with consuming(bus, handler, [f"{bus.prefix}.events.>"]):
        await eventually(lambda: attempts == [1, 2, 3], what="three attempts")


async def test_a_dead_letter_is_parked_and_the_next_message_is_processed(bus: Any) -> None:
    handled: list[bytes] = []

    async def handler(delivery: Delivery) -> Outcome:
        if delivery.data == b"poison":
            return DeadLetter("cannot ever be processed")
        handled.append(delivery.data)
        return Ack()

    await bus.publish(subject(bus, "a"), b"poison", {"Nats-Msg-Id": "d-1"})
    await bus.publish(subject(bus, "a"), b"good", {"Nats-Msg-Id": "d-2"})
    async with consuming(bus, handler, [f"{bus.prefix}.events.>"]):
        await eventually(lambda: handled == [b"good"], what="the good message")
    parked = await dead_letters(bus, "c1")
    assert [(d, h[DEAD_LETTER_REASON]) for d, h in parked] == [(b"poison", "cannot ever be processed")]


async def dead_letters(bus: Any, durable: str) -> list[tuple[bytes, dict[str, str]]]:
    dlq = dead_letter_subject(bus.prefix, durable)
    if isinstance(bus, InMemoryBus):
        return [(m.data, m.headers) for m in bus.on(dlq)]
    return [(m.data, dict(m.headers or {})) for m in await on_the_stream(bus, dlq)]


async def test_starting_again_keeps_the_stream_settings_an_operator_tuned(jetstream: JetStreamBus) -> None:
    bus = jetstream
    js = bus.nc.jetstream()
    tuned = (await js.stream_info(bus.stream)).config
    tuned.max_msgs = 1_000_000
    await js.update_stream(tuned)

    await bus.ensure_stream()  # a service restarts
    config = (await js.stream_info(bus.stream)).config
    assert config.max_msgs == 1_000_000
    assert set(config.subjects or []) == {f"{bus.prefix}.{family}.>" for family in ("events", "dlq", "audit")}
    assert config.duplicate_window == bus.duplicate_window


def test_the_stream_replicas_come_from_the_setting_unless_the_bus_is_given_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def replicas(**given: Any) -> int | None:
        return JetStreamBus("nats://unused", stream="S", prefix="s", **given).stream_config().num_replicas

    monkeypatch.delenv("GOVIT_STREAM_REPLICAS", raising=False)
    assert replicas() == 1
    monkeypatch.setenv("GOVIT_STREAM_REPLICAS", "3")
    assert replicas() == 3
    assert replicas(replicas=1) == 1
    monkeypatch.setenv("GOVIT_STREAM_REPLICAS", "0")
    with pytest.raises(ValidationError):
        replicas()


async def test_the_stream_is_created_with_its_replicas_and_more_than_the_servers_are_refused(
    nats_url: str, isolation: dict[str, str]
) -> None:
    where = {"stream": isolation["stream"], "prefix": isolation["subject_prefix"]}
    three, one = JetStreamBus(nats_url, **where, replicas=3), JetStreamBus(nats_url, **where, replicas=1)
    await three.connect(timeout=10)
    await one.connect(timeout=10)
    js = one.nc.jetstream()
    try:
        if not three.nc._server_info.get("cluster"):  # one server cannot keep three copies
            with pytest.raises(nats.js.errors.APIError, match="replicas"):
                await three.ensure_stream()
            with pytest.raises(nats.js.errors.NotFoundError):
                await js.stream_info(isolation["stream"])
        await one.ensure_stream()
        assert (await js.stream_info(isolation["stream"])).config.num_replicas == 1
    finally:
        with contextlib.suppress(Exception):
            await js.delete_stream(isolation["stream"])
        await three.close()
        await one.close()


async def test_connecting_to_an_absent_server_gives_up_within_the_timeout() -> None:
    from govit.devnats import free_port

    bus = JetStreamBus(f"nats://127.0.0.1:{free_port()}", stream="X", prefix="x")
    attempt = asyncio.create_task(bus.connect(timeout=2))
    done, _ = await asyncio.wait({attempt}, timeout=60)
    assert attempt in done, "connect must give up by itself, not retry for ever"
    with pytest.raises((OSError, TimeoutError, nats.errors.NoServersError)):
        attempt.result()
    assert not bus.connected


@pytest.mark.services("funding")  # `govit dlq list funding`: its consumer's dead letters
async def test_a_dead_letter_can_be_listed_and_replayed_onto_its_original_subject(
    jetstream: JetStreamBus, nats_url: str
) -> None:
    bus = jetstream
    original = subject(bus, "parked")
    await bus.dead_letter("funding", Delivery(original, b"payload", {"traceparent": "x"}, 6, 41), "boom")
    [parked] = await bus.dead_letters("funding")
    assert (parked.original_subject, parked.reason, parked.data) == (original, "boom", b"payload")

    env = {
        "GOVIT_NATS_URL": nats_url,
        "GOVIT_STREAM": bus.stream,
        "GOVIT_SUBJECT_PREFIX": bus.prefix,
        "PATH": "/usr/bin:/bin",
    }
    listed = await govit(env, "dlq", "list", "funding")
    assert original in listed.stdout and "boom" in listed.stdout, listed.stderr
    replayed = await govit(env, "dlq", "replay", "funding")
    assert replayed.returncode == 0, replayed.stderr
    assert await bus.dead_letters("funding") == []

    seen: list[Delivery] = []

    async def handler(delivery: Delivery) -> Outcome:
        seen.append(delivery)
        return Ack()

    async with consuming(bus, handler, [original]):
        await eventually(lambda: len(seen) == 1, what="the replayed message")
    assert seen[0].data == b"payload" and seen[0].headers.get("traceparent") == "x"


async def govit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """Run the govit command in a worker thread (it runs its own event loop)."""
    command = [sys.executable, "-m", "govit.cli", *args]
    return await asyncio.to_thread(
        subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
    )
