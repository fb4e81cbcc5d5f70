"""What the services need of a broker: the messages, the verdicts a handler gives, the Bus
interface (shared.bus has the JetStream adapter, shared.membus the in-memory twin), and the
names of subjects and headers both agree on."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import unquote, urlsplit

DEAD_LETTER_REASON = "Govit-Dead-Letter-Reason"
ORIGINAL_SUBJECT = "Govit-Original-Subject"


@dataclass(frozen=True, slots=True)
class Delivery:
    """One delivery of one message to one consumer; attempt counts from 1."""

    subject: str
    data: bytes
    headers: dict[str, str]
    attempt: int
    sequence: int


@dataclass(frozen=True, slots=True)
class ParkedMessage:
    """A dead letter: where it was going, why it was parked, and what it said."""

    sequence: int
    original_subject: str
    reason: str
    data: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Outgoing:
    """One message to publish: its subject, body and headers (Nats-Msg-Id among them)."""

    subject: str
    data: bytes
    headers: dict[str, str]


class PublishIncomplete(Exception):
    """Of the messages given, only the first `done` are known stored; `__cause__` stopped the rest."""

    def __init__(self, done: int) -> None:
        super().__init__(f"published {done} in order before a failure")
        self.done = done


@dataclass(frozen=True, slots=True)
class Ack:
    """Done (handled, duplicate, or of no interest)."""


@dataclass(frozen=True, slots=True)
class Retry:
    """Failed for now; deliver again after `delay` seconds."""

    delay: float


@dataclass(frozen=True, slots=True)
class DeadLetter:
    """Can never be processed: park it on the dead-letter subject and go on."""

    reason: str


Outcome = Ack | Retry | DeadLetter
Handler = Callable[[Delivery], Awaitable[Outcome]]
BatchSettle = Callable[[Sequence[Delivery]], Awaitable[list[Outcome]]]  # EventDispatcher.settle


class Bus(Protocol):
    """What services need of a broker: durable publish with dedup and durable pull consumers."""

    @property
    def connected(self) -> bool: ...

    async def connect(self, timeout: float = 30) -> None: ...

    async def ensure_stream(self) -> None: ...

    async def publish(self, subject: str, data: bytes, headers: dict[str, str]) -> None: ...

    async def publish_many(self, messages: Sequence[Outgoing]) -> None:
        """Publish in order, without a round trip each; PublishIncomplete says how many are stored."""
        ...

    async def last_sequence(self) -> int:
        """The stream sequence of the last message stored: every fact stored so far is at or before it."""
        ...

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
        """Deliver matching messages to `handler` until `stop` is set.

        `max_deliver` bounds deliveries of one message on the broker (-1: no bound);
        `running` is told whether the consumer is currently attached. A handler with a `batch`
        above 1 and a `settle` (EventDispatcher) may be given a fetched batch at once.
        """

    async def close(self) -> None: ...


def inbox_prefix(user: str) -> str:
    """Where the client of a NATS user receives replies and pulled messages (nats-py inbox_prefix)."""
    return f"_INBOX.{user}"


def servers(url: str) -> list[str]:
    """The servers of a NATS URL: one, or a cluster's as a comma-separated list
    (`nats://a:4222,nats://b:4222,nats://c:4222`); the client connects to any and follows the rest."""
    found = [part.strip() for part in url.split(",") if part.strip()]
    if not found:
        raise ValueError("no NATS server in the URL")
    return found


def client_inbox(url: str, fallback: str) -> str:
    """The inbox prefix a client uses: its user's (from the URL), else one named after the client."""
    user = urlsplit(servers(url)[0]).username
    return inbox_prefix(unquote(user) if user else fallback)


def dead_letter_subject(prefix: str, durable: str) -> str:
    return f"{prefix}.dlq.{durable}"
