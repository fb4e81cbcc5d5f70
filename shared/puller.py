"""Pulling a durable JetStream consumer in batches that end as soon as something has arrived.

nats-py's `fetch(batch=n)` on an empty consumer leaves a waiting pull request for n messages and,
once the first arrives, waits for the other n - 1 until its timeout: an event arriving alone
waits the whole timeout. Here one pull request for up to n messages stays open on the server;
whatever it has delivered is handed over at once, a lone event without delay and a backlog in
batches of up to n, one request per batch. Messages come to an inbox of this connection (its
inbox prefix, so the broker's permissions for replies apply) and are acknowledged as any
JetStream message is (their reply subject).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable

from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription

log = logging.getLogger(__name__)

_STATUS = "Status"
_DESCRIPTION = "Description"
_ENDED = frozenset({"404", "408", "409"})  # no messages (no_wait), request expired, request refused
_GONE = ("consumer deleted", "consumer is push based")  # the consumer must be bound again


class BatchSize:
    """How many events a consumer settles at once: `least` to begin with and again after an event
    of a batch was retried; twice as many, up to `most`, after GROW_AFTER full batches in a row
    (a backlog) settled with none retried, and none retried for QUIET seconds (nor since it began).

    Replicas sharing a durable consumer each hold a batch uncommitted, and an event whose
    predecessor another replica holds is retried; the bigger the batches, the more often, and a
    retried event sends its whole batch round again in savepoints. Three funding replicas on
    PostgreSQL: 1.71× one at batches of 64, 0.84× at 128, 0.60× at 256; growing after 10 quiet
    seconds instead of 30, retries came in storms (4,629 against 189). So a retry brings the size
    back down and keeps it there while retries go on, and one consumer working through a backlog
    in order grows to `most` (a review catch-up on PostgreSQL: 1,490 events/s at 64, 1,788
    growing from 64 to 256)."""

    GROW_AFTER = 16
    QUIET = 30.0

    def __init__(self, least: int, most: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.most = max(most, 1)
        self.least = max(min(least, self.most), 1)
        self.now = self.least
        self._clock = clock
        self._full = 0  # full batches in a row since the size last changed, none retried
        self._retried = clock()  # when an event was last retried; a start counts as one

    def settled(self, size: int, retried: bool) -> bool:
        """A batch of `size` events was settled; `retried`: one of its events or more was retried.
        True when the size would grow now: then `grow()` if the consumer is alone on its durable
        consumer, else `hold()`."""
        if retried:
            self.now, self._full, self._retried = self.least, 0, self._clock()
            return False
        if size >= self.now:
            self._full += 1
            quiet = self._clock() - self._retried >= self.QUIET
            return self._full >= self.GROW_AFTER and quiet and self.now < self.most
        return False

    def grow(self) -> None:
        self.now, self._full = min(2 * self.now, self.most), 0

    def hold(self) -> None:
        """Not now (other replicas pull the same durable consumer): asked again as after a retry."""
        self._full, self._retried = 0, self._clock()

    def alone(self, pending: int, waiting: int, queued: int, own_request: bool) -> bool:
        """Whether the durable consumer's `pending` deliveries not yet answered and `waiting` pull
        requests are all this consumer's (`queued` messages here, its request open or not)."""
        return pending <= queued and waiting <= int(own_request)


class ConsumerGone(Exception):
    """The server says the durable consumer is gone (deleted, or changed into a push consumer)."""


class Puller:
    """One durable consumer's messages, in batches of at most `batch`."""

    def __init__(self, nc: NATS, stream: str, durable: str, *, batch: int, wait: float = 1.0) -> None:
        self.nc = nc
        self.subject = f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self.batch = batch
        self.wait = wait
        self.queue: asyncio.Queue[Msg] = asyncio.Queue()
        self._sub: Subscription | None = None
        self._inbox = ""
        self._owed = 0  # messages the open request may still deliver
        self._until = 0.0  # when the open request expires (monotonic)

    async def start(self) -> None:
        self._inbox = self.nc.new_inbox()
        self._sub = await self.nc.subscribe(self._inbox, cb=self._arrived)

    async def _arrived(self, msg: Msg) -> None:
        self.queue.put_nowait(msg)

    async def fetch(self) -> list[Msg]:
        """What has arrived (up to `batch`), waiting at most `wait` for the first; [] if nothing."""
        taken = self._take(self.batch)
        if taken:
            return taken
        deadline = time.monotonic() + self.wait
        while (left := deadline - time.monotonic()) > 0:
            if not self._open():
                await self._request()
            try:
                msg = await asyncio.wait_for(
                    self.queue.get(), min(left, max(self._until - time.monotonic(), 0.01))
                )
            except TimeoutError:
                continue
            if self._status(msg) is None:
                self._owed = max(self._owed - 1, 0)
                return [msg, *self._take(self.batch - 1)]
        return []

    def requested(self) -> bool:
        """Whether a pull request of this consumer is open on the server."""
        return self._open()

    def _open(self) -> bool:
        # a little past the expiry: the server's 408 may be on its way
        return self._owed > 0 and time.monotonic() < self._until + 0.5

    async def _request(self) -> None:
        expires = max(self.wait, 0.05)
        body = {"batch": self.batch, "expires": int(expires * 1e9)}
        await self.nc.publish(self.subject, json.dumps(body).encode(), reply=self._inbox)
        self._owed = self.batch
        self._until = time.monotonic() + expires

    def _take(self, most: int) -> list[Msg]:
        """Messages already here, at most `most`; status messages end the request they answer."""
        taken: list[Msg] = []
        while len(taken) < most:
            try:
                msg = self.queue.get_nowait()
            except asyncio.QueueEmpty:
                break
            if self._status(msg) is None:
                self._owed = max(self._owed - 1, 0)
                taken.append(msg)
        return taken

    def _status(self, msg: Msg) -> str | None:
        """The status of a status message (its request ended, or the consumer is gone); None for
        a message of the stream."""
        headers = msg.headers or {}
        code = headers.get(_STATUS)
        if not code or msg.data:
            return None
        if code in _ENDED:
            self._owed = 0
            description = headers.get(_DESCRIPTION, "").lower()
            if any(gone in description for gone in _GONE):
                raise ConsumerGone(description)
        return code

    async def close(self) -> None:
        """Unsubscribe; messages delivered but not handed over go back to the consumer at once."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        while not self.queue.empty():
            msg = self.queue.get_nowait()
            if self._status(msg) is None:
                with contextlib.suppress(Exception):
                    await msg.nak()
