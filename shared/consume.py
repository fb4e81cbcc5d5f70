"""Turning a delivery into an effect: decode, inbox, handler, and the ack/retry/dead-letter verdict."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind, Status, StatusCode

from shared import audit
from shared.bus import Ack, DeadLetter, Delivery, Outcome, Retry
from shared.contracts import Event, UndeliverableEvent, decode, subject_for, type_filter
from shared.contracts.envelope import Envelope, type_of_subject
from shared.db import UnitOfWork, is_transient, utcnow
from shared.metrics import Metrics
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar

log = logging.getLogger(__name__)
tracer = trace.get_tracer("govit.consume")

# Delay before the n-th redelivery of a failing event (seconds).
BACKOFF: tuple[float, ...] = (1, 5, 15, 60, 300)


@dataclass(frozen=True)
class HandlerContext:
    """What an event handler may consult besides its unit of work."""

    policy: PolicyRegistry
    calendar: WorkingCalendar
    now: Callable[[], datetime] = utcnow  # the service's clock; tests move it to cross deadlines
    envelope: Envelope | None = None  # the event being handled: its id, source and time
    manual: ManualRecord | None = None  # set when the authority recorded the event by hand


@dataclass(frozen=True)
class ManualRecord:
    """A fact the authority recorded through the service's API where no system publishes it."""

    recorded_by: str
    document_ref: str
    note: str | None = None


def service_source(service: str) -> str:
    """The CloudEvents source a govit service publishes its events with."""
    return f"/govit/{service}"


def suite_source(event_type: str) -> str:
    """The source the suite's own producer of an event type publishes it with."""
    return service_source(event_type.split(".")[1])


@dataclass(frozen=True)
class TrustedSources:
    """Which systems a consuming service believes, per event type: the suite's own producer and
    the sources its configuration adds (GOVIT_TRUSTED_SOURCES, "*" for every type)."""

    extra: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def of(self, event_type: str) -> list[str]:
        return [suite_source(event_type), *self.extra.get(event_type, ()), *self.extra.get("*", ())]

    def allows(self, event_type: str, source: str) -> bool:  # on every delivery: no list built
        return (
            source == suite_source(event_type)
            or source in self.extra.get(event_type, ())
            or source in self.extra.get("*", ())
        )


EventHandler = Callable[[Any, Any, HandlerContext], Awaitable[None]]  # (uow, event, context) -> None


class Unprocessable(Exception):
    """Raised by an event handler for an event that will never succeed: dead-letter it."""


def backoff(attempt: int) -> float:
    return BACKOFF[min(attempt, len(BACKOFF)) - 1]


class EventDispatcher:
    """Routes decoded events to a service's handlers, each in one UnitOfWork with its inbox row."""

    def __init__(
        self,
        *,
        durable: str,
        subscriptions: Mapping[type[Event], EventHandler],
        uow_factory: Callable[[], UnitOfWork],
        context: HandlerContext,
        max_deliver: int,
        metrics: Metrics,
        prefix: str,
        trusted: TrustedSources | None = None,
    ) -> None:
        self.trusted = trusted or TrustedSources()
        self.prefix = prefix
        self.durable = durable
        self.handlers = {model.model_fields["type"].default: h for model, h in subscriptions.items()}
        self.uow_factory = uow_factory
        self.context = context
        self.max_deliver = max_deliver
        self.metrics = metrics

    def filters(self) -> list[str]:
        return [type_filter(self.prefix, t) for t in self.handlers]

    async def __call__(self, delivery: Delivery) -> Outcome:
        outcome = await self._handle(delivery)
        self.metrics.consumed.labels(self.durable, type(outcome).__name__.lower()).inc()
        return outcome

    async def apply(self, envelope: Envelope, manual: ManualRecord | None = None) -> bool:
        """Handle one event in one unit of work with its inbox row; False if it was handled before."""
        handler = self.handlers[envelope.type]
        async with self.uow_factory() as uow:
            claimed = await uow.claim(
                envelope.id,
                envelope.type,
                self.durable,
                source=envelope.source,
                recorded_by=manual.recorded_by if manual else None,
                document_ref=manual.document_ref if manual else None,
            )
            if not claimed:
                return False
            await handler(uow, envelope.data, replace(self.context, envelope=envelope, manual=manual))
            await uow.commit()
        return True

    async def _handle(self, delivery: Delivery) -> Outcome:
        if type_of_subject(delivery.subject) not in self.handlers:
            return Ack()  # not subscribed (a broad filter on older servers delivers every event)
        try:
            envelope = decode(delivery.data)
        except UndeliverableEvent as exc:
            return DeadLetter(f"{type(exc).__name__}: {exc}")
        handler = self.handlers.get(envelope.type)
        if handler is None:
            return Ack()
        if subject_for(self.prefix, envelope.data) != delivery.subject:
            return DeadLetter(f"SubjectMismatch: {delivery.subject} does not carry this {envelope.type}")
        if envelope.jurisdiction not in self.context.policy:
            return DeadLetter(f"UnknownJurisdiction: no policy pack for {envelope.jurisdiction!r}")
        if not self.trusted.allows(envelope.type, envelope.source):
            trusted = ", ".join(self.trusted.of(envelope.type))
            return DeadLetter(
                f"UntrustedSource: {envelope.type} from {envelope.source!r} is not on {self.durable}'s "
                f"allow-list (GOVIT_TRUSTED_SOURCES); trusted: {trusted}"
            )
        context = propagate.extract(delivery.headers)
        attributes = {
            "messaging.system": "nats",
            "messaging.operation.type": "process",
            "messaging.destination.name": delivery.subject,
            "messaging.message.id": envelope.id,
            "messaging.consumer.group.name": self.durable,
            "govit.project_id": envelope.subject,
        }
        with tracer.start_as_current_span(
            f"process {envelope.type}", context=context, kind=SpanKind.CONSUMER, attributes=attributes
        ) as span:
            actor = audit.current_actor.set(
                {"kind": "event", "id": envelope.id, "type": envelope.type, "source": envelope.source}
            )
            try:
                if not await self.apply(envelope):
                    span.set_attribute("govit.duplicate", True)
                return Ack()
            except Unprocessable as exc:
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                return DeadLetter(f"Unprocessable: {exc}")
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                if is_transient(exc):
                    # The database or network is away: the event is fine, wait and retry for ever.
                    log.warning("%s: infrastructure away, retrying %s: %r", self.durable, envelope.id, exc)
                    return Retry(backoff(delivery.attempt))
                if delivery.attempt >= self.max_deliver:
                    return DeadLetter(f"gave up after {delivery.attempt} deliveries: {exc!r}")
                log.warning(
                    "%s on %s failed (attempt %s): %r", self.durable, envelope.type, delivery.attempt, exc
                )
                return Retry(backoff(delivery.attempt))
            finally:
                audit.current_actor.reset(actor)
