"""An in-memory twin of the JetStream bus, with the same interface, for fast tests of consumers."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from shared.bus import (
    DEAD_LETTER_REASON,
    ORIGINAL_SUBJECT,
    DeadLetter,
    Delivery,
    Handler,
    Outgoing,
    PublishIncomplete,
    Retry,
    dead_letter_subject,
    header_text,
    subject_matches,
)


@dataclass
class _Stored:
    sequence: int
    subject: str
    data: bytes
    headers: dict[str, str]


@dataclass
class _ConsumerState:
    filters: tuple[str, ...]
    next_index: int = 0
    redeliveries: list[tuple[float, int, int]] = field(default_factory=list)  # (due, index, attempt)


class InMemoryBus:
    """The same interface in one process, for fast tests of consumers; no persistence."""

    def __init__(self, *, prefix: str = "govit") -> None:
        self.prefix = prefix
        self.messages: list[_Stored] = []
        self._ids: set[str] = set()
        self._consumers: dict[str, _ConsumerState] = {}
        self._new = asyncio.Condition()
        self.up = True

    @property
    def connected(self) -> bool:
        return self.up

    async def connect(self, timeout: float = 30) -> None:
        if not self.up:
            raise ConnectionError("bus is down")

    async def ensure_stream(self) -> None:
        return None

    async def publish(self, subject: str, data: bytes, headers: dict[str, str]) -> None:
        if not self.up:
            raise ConnectionError("bus is down")
        msg_id = headers.get("Nats-Msg-Id")
        if msg_id is not None:
            if msg_id in self._ids:
                return  # duplicate within the window: dropped, like JetStream
            self._ids.add(msg_id)
        self.messages.append(_Stored(len(self.messages) + 1, subject, data, dict(headers)))
        async with self._new:
            self._new.notify_all()

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        for done, m in enumerate(messages):
            try:
                await self.publish(m.subject, m.data, m.headers)
            except Exception as exc:
                raise PublishIncomplete(done) from exc

    async def last_sequence(self) -> int:
        if not self.up:
            raise ConnectionError("bus is down")
        return len(self.messages)

    def on(self, subject_filter: str) -> list[_Stored]:
        return [m for m in self.messages if subject_matches(subject_filter, m.subject)]

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
        state = self._consumers.setdefault(durable, _ConsumerState(tuple(filters)))
        loop = asyncio.get_running_loop()
        running(True)
        while not stop.is_set():
            now = loop.time()
            due = [r for r in state.redeliveries if r[0] <= now]
            if due:
                state.redeliveries = [r for r in state.redeliveries if r[0] > now]
                for _, index, attempt in due:
                    await self._deliver(durable, state, index, attempt, handler, max_deliver)
                continue
            if state.next_index < len(self.messages):
                index = state.next_index
                state.next_index += 1
                if any(subject_matches(f, self.messages[index].subject) for f in state.filters):
                    await self._deliver(durable, state, index, 1, handler, max_deliver)
                continue
            async with self._new:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._new.wait(), 0.05)
        running(False)

    async def _deliver(
        self,
        durable: str,
        state: _ConsumerState,
        index: int,
        attempt: int,
        handler: Handler,
        max_deliver: int,
    ) -> None:
        stored = self.messages[index]
        delivery = Delivery(stored.subject, stored.data, dict(stored.headers), attempt, stored.sequence)
        outcome = await handler(delivery)
        if isinstance(outcome, Retry):
            if max_deliver < 0 or attempt < max_deliver:
                due = asyncio.get_running_loop().time() + outcome.delay
                state.redeliveries.append((due, index, attempt + 1))
        elif isinstance(outcome, DeadLetter):
            await self.publish(
                dead_letter_subject(self.prefix, durable),
                stored.data,
                {
                    "Nats-Msg-Id": f"dlq-{durable}-{stored.sequence}",
                    DEAD_LETTER_REASON: header_text(outcome.reason),
                    ORIGINAL_SUBJECT: stored.subject,
                },
            )

    async def close(self) -> None:
        return None
