"""Audit anchors: each service publishes its audit chain's head on the stream, keyed.

The protocol:
- Every GOVIT_AUDIT_ANCHOR_SECONDS, when the head moved since the last anchor this process
  published, and once at shutdown, a service publishes `govit.audit.anchored.v1`
  {service, n, hash, alg, mac} on `<prefix>.audit.<service>.anchored.v1`; `mac` is the HMAC
  of the rest under the audit key, so an anchor published without the key is told apart.
- Published straight to JetStream and acknowledged, not through the outbox: the outbox lives
  in the database the anchor is there to be checked against, where whoever can write could
  drop an anchor before the relay sends it; and an anchor carries nothing that must survive a
  failure — the next one carries a later head, whose chain includes this one.
- `Nats-Msg-Id` is `audit-<service>-<n>-<hash>`: replicas anchoring the same head store it once.
- The stream keeps every anchor. Entry n of an append-only chain never changes, so every
  anchor ever published must still hold: `govit audit verify` reads them all and checks the
  database against each (a tail cut with the head rolled back is shorter than the furthest
  anchor; a rewritten chain differs at an anchored position).
- Before publishing, a service checks that the entry of its previous anchor still carries that
  hash; if not, it publishes no more anchors, logs the contradiction, and
  GET /audit/verification reports it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass

import nats
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from shared import audit
from shared.audit_key import AuditKey, canonical, use_key
from shared.bus import Bus, JetStreamBus
from shared.contracts.audit import AuditAnchored, anchor_subject, decode_anchor, encode_anchor
from shared.contracts.envelope import MalformedEnvelope
from shared.db import READ_ONLY
from shared.settings import GovitSettings

log = logging.getLogger(__name__)


def make_anchor(service: str, n: int, head_hash: str, key: AuditKey) -> AuditAnchored:
    body = {"service": service, "n": n, "hash": head_hash, "alg": key.algorithm}
    return AuditAnchored.model_validate({**body, "mac": key.mac(canonical(body))})


def is_genuine(anchor: AuditAnchored, key: AuditKey) -> bool:
    """Made with the key: its `mac` matches."""
    return key.matches(canonical(anchor.signed_part()), anchor.alg, anchor.mac)


class AnchorPublisher:
    """Publishes one service's audit head now and then and at shutdown (see the module)."""

    def __init__(
        self, engine: AsyncEngine, bus: Bus, *, service: str, key: AuditKey, prefix: str, every: float
    ) -> None:
        self.engine = engine
        self.bus = bus
        self.service = service
        self.key = key
        self.prefix = prefix
        self.every = every
        self.last: AuditAnchored | None = None  # the last anchor this process published
        self.contradiction: str | None = None

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.every)
            if stop.is_set():
                return
            try:
                await self.publish()
            except Exception as exc:
                log.warning("%s: audit anchor not published (%s); next turn", self.service, exc)

    async def close(self) -> None:
        """At shutdown, after the last write: anchor the final head if NATS is there."""
        if not self.bus.connected:
            log.warning("%s: audit anchor not published at shutdown: NATS is not connected", self.service)
            return
        try:
            await self.publish()
        except Exception as exc:
            log.warning("%s: audit anchor not published at shutdown (%s)", self.service, exc)

    async def publish(self) -> AuditAnchored | None:
        """Anchor the current head if it moved; None when nothing was published."""
        if self.contradiction is not None:
            return None
        async with self.engine.connect() as conn:
            await conn.execution_options(**READ_ONLY)
            head = (
                await conn.execute(
                    select(audit.audit_head.c.n, audit.audit_head.c.hash).where(audit.audit_head.c.id == 1)
                )
            ).first()
            previous = self.last
            kept = None
            if previous is not None:
                kept = await conn.scalar(
                    select(audit.audit_log.c.hash).where(audit.audit_log.c.n == previous.n)
                )
        if head is None or int(head.n) == 0:
            return None
        n, head_hash = int(head.n), str(head.hash)
        if previous is not None:
            if kept != previous.hash:
                self.contradiction = (
                    f"第 {previous.n} 条记录已不是本服务锚定的 {previous.hash[:16]}…（日志被截断或改写）"
                )
                log.error("%s: audit chain contradicts its own anchor: %s", self.service, self.contradiction)
                return None
            if (previous.n, previous.hash) == (n, head_hash):
                return None
        anchor = make_anchor(self.service, n, head_hash, self.key)
        message_id = f"audit-{self.service}-{n}-{head_hash}"
        await self.bus.publish(
            anchor_subject(self.prefix, self.service),
            encode_anchor(anchor, event_id=message_id),
            {"Nats-Msg-Id": message_id},
        )
        self.last = anchor
        return anchor


@dataclass(frozen=True)
class StoredAnchor:
    """One message on a service's anchor subject: its stream sequence and the anchor, if it is one."""

    sequence: int
    anchor: AuditAnchored | None
    malformed: str | None = None


async def stored_anchors(bus: JetStreamBus, service: str, *, batch: int = 512) -> list[StoredAnchor]:
    """Every anchor of a service on the stream, oldest first (an ephemeral consumer)."""
    js = bus.nc.jetstream()
    subject = anchor_subject(bus.prefix, service)
    # No acknowledgements: a reader that only looks must not stall at the consumer's ack limit.
    config = ConsumerConfig(ack_policy=AckPolicy.NONE, deliver_policy=DeliverPolicy.ALL)
    sub = await js.pull_subscribe(subject, durable=None, stream=bus.stream, config=config)
    found: list[StoredAnchor] = []
    try:
        while True:
            try:
                messages = await sub.fetch(batch=batch, timeout=1)
            except (nats.errors.TimeoutError, TimeoutError):
                break
            for message in messages:
                sequence = message.metadata.sequence.stream
                try:
                    found.append(StoredAnchor(sequence, decode_anchor(message.data)))
                except MalformedEnvelope as exc:
                    found.append(StoredAnchor(sequence, None, str(exc)))
            if not messages or messages[-1].metadata.num_pending == 0:
                break
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
    return found


@dataclass(frozen=True)
class AnchorCheck:
    """What the stream holds for a service: the genuine anchors (position → hash) and the rest."""

    anchors: dict[int, str]
    problems: list[str]
    count: int

    @property
    def furthest(self) -> int:
        return max(self.anchors, default=0)


def check_anchors(service: str, stored: list[StoredAnchor], key: AuditKey) -> AnchorCheck:
    """Keep the anchors made with the key; name every message on the subject that is not one."""
    anchors: dict[int, str] = {}
    problems: list[str] = []
    for item in stored:
        anchor = item.anchor
        if anchor is None:
            problems.append(f"流中 #{item.sequence} 不是有效的锚点 / not an anchor: {item.malformed}")
        elif anchor.service != service:
            problems.append(f"流中 #{item.sequence} 是 {anchor.service} 的锚点 / another service's anchor")
        elif not is_genuine(anchor, key):
            problems.append(
                f"流中 #{item.sequence} 的锚点（第 {anchor.n} 条）签名不符：伪造，或以另一密钥签名 "
                f"/ anchor at entry {anchor.n} has a MAC the audit key did not make"
            )
        elif anchors.setdefault(anchor.n, anchor.hash) != anchor.hash:
            problems.append(
                f"流中 #{item.sequence} 的锚点与更早的锚点对第 {anchor.n} 条给出不同哈希 "
                f"/ two anchors disagree at entry {anchor.n}"
            )
    return AnchorCheck(anchors, problems, len(stored))


async def open_chain(
    engine: AsyncEngine, bus: Bus, *, service: str, settings: GovitSettings
) -> AnchorPublisher:
    """At a service's start, after its migrations: seal the chain's entries with the service's
    key from now on (closing any written before the key), and give its anchor publisher."""
    key = AuditKey.from_settings(settings)
    use_key(engine, key)
    async with engine.begin() as conn:
        await conn.run_sync(lambda c: audit.seal_legacy(c, key))
    return AnchorPublisher(
        engine,
        bus,
        service=service,
        key=key,
        prefix=settings.subject_prefix,
        every=settings.audit_anchor_seconds,
    )
