"""The JetStream adapter of the event bus (its interface and verdicts are shared.busapi,
re-exported here; shared.membus has an in-memory twin with the same interface)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Sequence

import nats
from nats.aio.client import Client as NATS
from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy, PubAck, StorageType, StreamConfig
from nats.js.client import JetStreamContext
from nats.js.errors import BadRequestError, NotFoundError
from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_delay, wait_exponential

from shared.busapi import (
    DEAD_LETTER_REASON,
    ORIGINAL_SUBJECT,
    Ack,
    BatchSettle,
    Bus,
    DeadLetter,
    Delivery,
    Handler,
    Outcome,
    Outgoing,
    ParkedMessage,
    PublishIncomplete,
    Retry,
    client_inbox,
    dead_letter_subject,
    inbox_prefix,
    servers,
)
from shared.puller import BatchSize, Puller
from shared.settings import StreamSettings
from shared.subjects import header_text, subject_matches

# Where the services, the membus and the tests have always found them.
__all__ = [
    "DEAD_LETTER_REASON",
    "ORIGINAL_SUBJECT",
    "Ack",
    "BatchSettle",
    "Bus",
    "DeadLetter",
    "Delivery",
    "Handler",
    "Outcome",
    "Outgoing",
    "ParkedMessage",
    "PublishIncomplete",
    "Retry",
    "client_inbox",
    "dead_letter_subject",
    "header_text",
    "inbox_prefix",
    "subject_matches",
]

log = logging.getLogger(__name__)


# A durable consumer's deliveries not yet answered, shared by its replicas: each holds at most one
# batch (up to 256) unanswered, so four replicas pull full batches at once.
MAX_ACK_PENDING = 1024


def _delivery(msg: Msg) -> Delivery:
    meta = msg.metadata
    return Delivery(
        subject=msg.subject,
        data=msg.data,
        headers=dict(msg.headers or {}),
        attempt=meta.num_delivered,
        sequence=meta.sequence.stream,
    )


class JetStreamBus:
    """NATS JetStream: one file-backed stream for the suite, durable pull consumers."""

    #: seconds a delivery may go unanswered before the broker delivers it again, to this replica or
    #: another (a replica killed mid-batch: its events wait this long); GOVIT_ACK_WAIT_SECONDS
    ack_wait: float = 30

    def __init__(
        self,
        url: str,
        *,
        stream: str,
        prefix: str,
        duplicate_window: float = 600,
        name: str = "govit",
        replicas: int | None = None,
    ) -> None:
        """`replicas`: copies of the stream when this bus creates it; unset, GOVIT_STREAM_REPLICAS."""
        self.url = url
        self.stream = stream
        self.prefix = prefix
        self.duplicate_window = duplicate_window
        self.name = name
        self.replicas = StreamSettings().stream_replicas if replicas is None else replicas
        self._nc: NATS | None = None
        self._js: JetStreamContext | None = None
        self._closing = False  # close() was called: the disconnect that follows is ours

    @property
    def connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def connect(self, timeout: float = 30) -> None:
        """Connect, retrying until `timeout`; afterwards the client reconnects by itself forever."""
        self._closing = False
        async for attempt in AsyncRetrying(
            stop=stop_after_delay(timeout),
            wait=wait_exponential(multiplier=0.2, max=2),
            retry=retry_if_exception_type((OSError, nats.errors.NoServersError, asyncio.TimeoutError)),
            reraise=True,
        ):
            with attempt:
                # A bounded first connect (an unbounded one would never return while NATS is away);
                # once connected, the client reconnects by itself for as long as the service runs.
                nc = await nats.connect(
                    servers(self.url),
                    name=self.name,
                    inbox_prefix=client_inbox(self.url, self.name),  # what its NATS user may receive on
                    max_reconnect_attempts=2,
                    reconnect_time_wait=0.5,
                    allow_reconnect=True,
                    connect_timeout=2,
                    drain_timeout=5,
                    error_cb=self._on_error,
                    disconnected_cb=self._on_disconnect,
                    reconnected_cb=self._on_reconnect,
                )
                nc.options["max_reconnect_attempts"] = -1
                self._nc = nc

    async def _on_error(self, exc: Exception) -> None:
        log.warning("NATS error: %s", exc)

    async def _on_disconnect(self) -> None:
        if self._closing:  # this process closed its own connection: nothing to warn of
            log.debug("NATS connection closed")
            return
        log.warning("NATS disconnected")

    async def _on_reconnect(self) -> None:
        log.info("NATS reconnected")

    @property
    def nc(self) -> NATS:
        if self._nc is None:
            raise RuntimeError("bus is not connected")
        return self._nc

    def stream_config(self) -> StreamConfig:
        return StreamConfig(
            name=self.stream,
            # Lifecycle events, dead letters, and each service's audit anchors (shared.audit_anchor).
            subjects=[f"{self.prefix}.events.>", f"{self.prefix}.dlq.>", f"{self.prefix}.audit.>"],
            storage=StorageType.FILE,
            duplicate_window=self.duplicate_window,
            num_replicas=self.replicas,
        )

    async def ensure_stream(self) -> None:
        """Create the suite's stream if missing; on an existing one add only what is missing.

        Settings an operator tuned (replicas, limits, placement) are left as they are.
        """
        js = self.nc.jetstream()
        wanted = self.stream_config()
        try:
            info = await js.stream_info(self.stream)
        except NotFoundError:
            try:
                await js.add_stream(wanted)
                return
            except BadRequestError:
                info = await js.stream_info(self.stream)  # created meanwhile by another service
        current = info.config
        subjects = set(current.subjects or [])
        if subjects >= set(wanted.subjects or []) and current.duplicate_window == wanted.duplicate_window:
            return
        current.subjects = sorted(subjects | set(wanted.subjects or []))
        current.duplicate_window = wanted.duplicate_window
        await js.update_stream(current)

    async def publish(self, subject: str, data: bytes, headers: dict[str, str]) -> None:
        if not self.connected:
            raise ConnectionError("NATS is not connected")
        await self.nc.jetstream().publish(subject, data, headers=headers, timeout=5)

    async def publish_many(self, messages: Sequence[Outgoing], timeout: float = 5) -> None:
        """All messages sent at once in order, then their PubAcks awaited: one round trip for the
        lot. The stream stores them in the order sent; a failure raises PublishIncomplete with how
        many leading ones were acknowledged (a later one may be stored too: sent again, JetStream
        drops it by its Nats-Msg-Id)."""
        if not self.connected:
            raise ConnectionError("NATS is not connected")
        if self._js is None:
            self._js = self.nc.jetstream()  # one context: its PubAck inbox is subscribed once
        futures: list[asyncio.Future[PubAck]] = []
        try:
            try:
                for m in messages:
                    sent = self._js.publish_async(m.subject, m.data, wait_stall=timeout, headers=m.headers)
                    futures.append(await sent)
            finally:
                acked = 0
                for future in futures:
                    await asyncio.wait_for(future, timeout)
                    acked += 1
        except Exception as exc:
            for future in futures:
                future.cancel()  # frees its place among the pending publishes
            raise PublishIncomplete(acked) from exc

    async def last_sequence(self) -> int:
        if not self.connected:
            raise ConnectionError("NATS is not connected")
        info = await self.nc.jetstream().stream_info(self.stream)
        return int(info.state.last_seq)

    async def _bind(self, durable: str, filters: Sequence[str], max_deliver: int) -> None:
        js = self.nc.jetstream()
        config = ConsumerConfig(
            durable_name=durable,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.ack_wait,
            max_deliver=max_deliver,
            max_ack_pending=MAX_ACK_PENDING,
        )
        version = self.nc.connected_server_version
        if len(filters) == 1:
            config.filter_subject = filters[0]
        elif (version.major, version.minor) >= (2, 10):
            config.filter_subjects = list(filters)
        else:
            # Servers before 2.10 take one filter: all events, the dispatcher skips other types.
            config.filter_subject = f"{self.prefix}.events.>"
        await js.add_consumer(self.stream, config)

    async def consume(
        self,
        durable: str,
        filters: Sequence[str],
        handler: Handler,
        stop: asyncio.Event,
        *,
        max_deliver: int,
        running: Callable[[bool], None] = lambda _: None,
    ) -> None:
        batch: int = getattr(handler, "batch", 1)  # EventDispatcher.batch (GOVIT_CONSUMER_BATCH)
        settle: BatchSettle | None = getattr(handler, "settle", None) if batch > 1 else None
        sizes = BatchSize(getattr(handler, "least_batch", None) or batch, batch)
        pause = 0.5
        while not stop.is_set():
            try:
                await self._bind(durable, filters, max_deliver)
                puller = Puller(self.nc, self.stream, durable, batch=min(max(sizes.now, 16), MAX_ACK_PENDING))
                await puller.start()
                running(True)
                pause = 0.5
                try:
                    while not stop.is_set():
                        puller.batch = max(sizes.now, 16)
                        msgs = await puller.fetch()
                        if settle is not None and msgs:
                            size = sizes.now
                            for start in range(0, len(msgs), size):
                                part = msgs[start : start + size]
                                if sizes.settled(len(part), await self._settle_batch(durable, part, settle)):
                                    await self._grow(durable, puller, sizes)
                            continue
                        for msg in msgs:
                            await self._settle(durable, msg, handler)
                finally:
                    await puller.close()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                running(False)
                log.warning("consumer %s interrupted: %r; retrying in %.1fs", durable, exc, pause)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), pause)
                pause = min(pause * 2, 10)
        running(False)

    async def _grow(self, durable: str, puller: Puller, sizes: BatchSize) -> None:
        """Bigger batches only for a consumer alone on its durable (BatchSize)."""
        info = await self.nc.jetstream().consumer_info(self.stream, durable)
        pending, waiting = info.num_ack_pending or 0, info.num_waiting or 0
        alone = sizes.alone(pending, waiting, puller.queue.qsize(), puller.requested())
        if alone:
            sizes.grow()
        else:
            sizes.hold()

    async def _settle(self, durable: str, msg: Msg, handler: Handler) -> None:
        delivery = _delivery(msg)
        await self._answer(durable, msg, delivery, await handler(delivery))

    async def _settle_batch(self, durable: str, msgs: Sequence[Msg], settle: BatchSettle) -> bool:
        """One call for the batch (its commit done when it returns), then each verdict in order:
        the acks sent together and the connection flushed once (a round trip for the batch, not
        one per event; an ack the server did not get means a redelivery the inbox absorbs).
        Whether an event of it was retried."""
        deliveries = [_delivery(msg) for msg in msgs]
        outcomes = await settle(deliveries)
        for msg, delivery, outcome in zip(msgs, deliveries, outcomes, strict=True):
            await self._answer(durable, msg, delivery, outcome, wait=False)
        await self.nc.flush(timeout=5)
        return any(isinstance(outcome, Retry) for outcome in outcomes)

    async def _answer(
        self, durable: str, msg: Msg, delivery: Delivery, outcome: Outcome, *, wait: bool = True
    ) -> None:
        if isinstance(outcome, Ack):
            await (msg.ack_sync(timeout=5) if wait else msg.ack())
        elif isinstance(outcome, Retry):
            await msg.nak(delay=outcome.delay)
        else:
            await self.dead_letter(durable, delivery, outcome.reason)
            await msg.term()

    async def dead_letter(self, durable: str, delivery: Delivery, reason: str) -> None:
        headers = {k: v for k, v in delivery.headers.items() if not k.startswith("Nats-")} | {
            "Nats-Msg-Id": f"dlq-{durable}-{delivery.sequence}",
            DEAD_LETTER_REASON: header_text(reason),
            ORIGINAL_SUBJECT: delivery.subject,
        }
        log.error(
            "dead-lettered %s (seq %s) for %s: %s", delivery.subject, delivery.sequence, durable, reason
        )
        await self.publish(dead_letter_subject(self.prefix, durable), delivery.data, headers)

    async def dead_letters(self, durable: str, limit: int = 100) -> list[ParkedMessage]:
        """The messages parked for one consumer, oldest first."""
        js = self.nc.jetstream()
        subject = dead_letter_subject(self.prefix, durable)
        parked: list[ParkedMessage] = []
        seq = 1
        while len(parked) < limit:
            try:
                raw = await js.get_msg(self.stream, seq=seq, subject=subject, next=True)
            except NotFoundError:
                break
            headers = dict(raw.headers or {})
            parked.append(
                ParkedMessage(
                    sequence=int(raw.seq or 0),
                    original_subject=headers.get(ORIGINAL_SUBJECT, ""),
                    reason=headers.get(DEAD_LETTER_REASON, ""),
                    data=raw.data or b"",
                    headers=headers,
                )
            )
            seq = int(raw.seq or 0) + 1
        return parked

    async def replay(self, durable: str, sequence: int) -> ParkedMessage:
        """Publish a parked message again on its original subject and remove it from the dead letters.

        Safe to repeat: consumers' inboxes ignore an event they have already handled.
        """
        js = self.nc.jetstream()
        found = [m for m in await self.dead_letters(durable, limit=10_000) if m.sequence == sequence]
        if not found:
            raise LookupError(f"no dead letter {sequence} for {durable}")
        message = found[0]
        headers = {
            k: v
            for k, v in message.headers.items()
            if not k.startswith("Nats-") and k not in (DEAD_LETTER_REASON, ORIGINAL_SUBJECT)
        }
        headers["Nats-Msg-Id"] = f"replay-{durable}-{sequence}"
        await self.publish(message.original_subject, message.data, headers)
        await js.delete_msg(self.stream, sequence)
        return message

    async def close(self) -> None:
        self._closing = True
        nc, self._nc, self._js = self._nc, None, None
        if nc is None or nc.is_closed:
            return
        try:
            await nc.drain()
        except Exception:
            with contextlib.suppress(Exception):
                await nc.close()  # NATS away: stop reconnecting instead of trying for ever
