"""A bare service for the gate-latency baseline: the same JetStream work as a govit consumer,
none of its own.

Pulls from a durable consumer in batches (as the services fetch), acks each message and
publishes it back onto the stream under `<prefix>.pong.<token>` (as their relays publish).
Run as its own process by bench/run.py: `python bench/echo.py URL STREAM PREFIX`.
"""

from __future__ import annotations

import asyncio
import sys
from contextlib import suppress

import nats


async def echo(url: str, stream: str, prefix: str) -> None:
    nc = await nats.connect(url, name="govit-bench-echo")
    js = nc.jetstream()
    sub = await js.pull_subscribe(f"{prefix}.ping.>", durable="echo", stream=stream)
    print("ready", flush=True)
    while True:
        with suppress(nats.errors.TimeoutError, TimeoutError):
            for message in await sub.fetch(batch=16, timeout=1):
                await message.ack_sync(timeout=5)
                token = message.subject.rsplit(".", 1)[1]
                await js.publish(f"{prefix}.pong.{token}", message.data, timeout=5)


if __name__ == "__main__":
    asyncio.run(echo(*sys.argv[1:4]))
