"""Pulling a durable consumer in batches (shared.puller) on a real JetStream: a lone message is
handed over at once, a backlog comes in batches in stream order, what was pulled but not handed
over goes back at once, and a deleted consumer is reported."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from nats.js.api import AckPolicy, ConsumerConfig

from shared.bus import JetStreamBus
from shared.puller import ConsumerGone, Puller
from tests.conftest import eventually, real_bus


@pytest.fixture
async def jetstream(nats_url: str, isolation: dict[str, str]) -> AsyncIterator[JetStreamBus]:
    async with real_bus(nats_url, isolation) as real:
        yield real


async def durable(bus: JetStreamBus, name: str = "p1") -> None:
    config = ConsumerConfig(
        durable_name=name,
        ack_policy=AckPolicy.EXPLICIT,
        ack_wait=30,
        filter_subject=f"{bus.prefix}.events.>",
        max_ack_pending=256,
    )
    await bus.nc.jetstream().add_consumer(bus.stream, config)


async def publish(bus: JetStreamBus, count: int) -> None:
    for n in range(count):
        await bus.publish(f"{bus.prefix}.events.t.v1.p{n}", str(n).encode(), {"Nats-Msg-Id": f"m{n}"})


async def test_a_lone_message_is_handed_over_without_waiting_for_a_full_batch(
    jetstream: JetStreamBus,
) -> None:
    await durable(jetstream)
    puller = Puller(jetstream.nc, jetstream.stream, "p1", batch=50, wait=120)
    await puller.start()
    try:
        waiting = asyncio.create_task(puller.fetch())  # an open pull request for 50, nothing there
        await asyncio.sleep(0.2)
        assert not waiting.done()
        await publish(jetstream, 1)
        # The request wants 49 more and may wait 120 s: the one message comes back now.
        got = await asyncio.wait_for(waiting, 10)
        assert [m.data for m in got] == [b"0"]
        await got[0].ack_sync()
    finally:
        await puller.close()


async def test_a_backlog_comes_in_batches_in_stream_order_each_message_once(jetstream: JetStreamBus) -> None:
    await durable(jetstream)
    await publish(jetstream, 40)
    puller = Puller(jetstream.nc, jetstream.stream, "p1", batch=16, wait=1)
    await puller.start()
    seen: list[bytes] = []
    sizes: list[int] = []
    try:
        while len(seen) < 40:
            got = await asyncio.wait_for(puller.fetch(), 10)
            assert got, f"nothing more after {len(seen)}"
            sizes.append(len(got))
            for msg in got:
                seen.append(msg.data)
                await msg.ack()
        assert await puller.fetch() == []  # the backlog is done: nothing within the wait
    finally:
        await puller.close()
    assert seen == [str(n).encode() for n in range(40)]
    assert max(sizes) <= 16 and len(sizes) >= 3


async def test_messages_pulled_but_not_handed_over_go_back_at_once_when_it_closes(
    jetstream: JetStreamBus,
) -> None:
    await durable(jetstream)
    await publish(jetstream, 5)
    first = Puller(jetstream.nc, jetstream.stream, "p1", batch=5, wait=1)
    await first.start()
    await first._request()
    # delivered to this client, not yet handed over
    await eventually(lambda: first.queue.qsize() == 5, what="the five delivered")
    await first.close()
    second = Puller(jetstream.nc, jetstream.stream, "p1", batch=5, wait=5)
    await second.start()
    try:
        got: list[Any] = []
        while len(got) < 5:
            more = await asyncio.wait_for(second.fetch(), 10)  # well within the 30 s ack wait
            assert more, f"only {len(got)} came back"
            got += more
        assert sorted(m.data for m in got) == [str(n).encode() for n in range(5)]
        assert all(m.metadata.num_delivered == 2 for m in got)
    finally:
        await second.close()


async def test_a_deleted_consumer_is_reported_so_that_it_is_bound_again(jetstream: JetStreamBus) -> None:
    await durable(jetstream)
    puller = Puller(jetstream.nc, jetstream.stream, "p1", batch=8, wait=30)
    await puller.start()
    try:
        waiting = asyncio.create_task(puller.fetch())
        await asyncio.sleep(0.2)
        await jetstream.nc.jetstream().delete_consumer(jetstream.stream, "p1")
        with pytest.raises(ConsumerGone):
            await asyncio.wait_for(waiting, 10)
    finally:
        await puller.close()
