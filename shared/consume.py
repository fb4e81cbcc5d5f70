"""Turning a delivery into an effect: decode, inbox, handler, and the ack/retry/dead-letter verdict."""

from __future__ import annotations

import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

from shared import audit, telemetry
from shared.bus import Ack, DeadLetter, Delivery, Outcome, Retry
from shared.contracts import Event, UndeliverableEvent, decode, subject_for, type_filter
from shared.contracts.envelope import Envelope, type_of_subject
from shared.db import UnitOfWork, is_transient, utcnow
from shared.metrics import Metrics
from shared.policy import PolicyRegistry
from shared.savepoint import AlreadyHandled
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
    #: The event's place in the stream (JetStream stream sequence), or for a fact recorded by
    #: hand the stream's last sequence when it was recorded; None where it is not known.
    position: int | None = None


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


ANY_JURISDICTION = "*"


@dataclass(frozen=True)
class TrustedSources:
    """Which systems a consuming service believes, per event type, and for which jurisdictions.

    The suite's own producer of a type (/govit/<service>) speaks for every jurisdiction (the
    broker's permissions let only that service publish its events). Every other source is
    believed only for the types and jurisdictions GOVIT_TRUSTED_SOURCES names for it:
    `{type or "*": {source: [jurisdiction, …] or ["*"]}}`.
    """

    extra: Mapping[str, Mapping[str, Sequence[str]]] = field(default_factory=dict)

    def of(self, event_type: str) -> list[str]:
        """Who is believed for a type, as people read it: `source (jurisdictions)`."""
        named = [suite_source(event_type) + " (全部辖区)"]
        for key in (event_type, "*"):
            for source, jurisdictions in self.extra.get(key, {}).items():
                named.append(f"{source} ({', '.join(jurisdictions)})")
        return named

    def allows(self, event_type: str, source: str, jurisdiction: str) -> bool:  # on every delivery
        if source == suite_source(event_type):
            return True
        for key in (event_type, "*"):
            jurisdictions = self.extra.get(key, {}).get(source)
            if jurisdictions is not None and (
                jurisdiction in jurisdictions or ANY_JURISDICTION in jurisdictions
            ):
                return True
        return False

    def refusal(self, event_type: str, source: str, jurisdiction: str, durable: str) -> str:
        """Why an event from this source is not believed, naming the jurisdiction it spoke for."""
        spoken_for = [j for key in (event_type, "*") for j in self.extra.get(key, {}).get(source, ())]
        if spoken_for:
            return (
                f"UntrustedSource: {source!r} may send {event_type} to {durable} only for "
                f"{', '.join(spoken_for)}, not for jurisdiction {jurisdiction!r} (GOVIT_TRUSTED_SOURCES)"
            )
        return (
            f"UntrustedSource: {event_type} for jurisdiction {jurisdiction!r} from {source!r} is not on "
            f"{durable}'s allow-list (GOVIT_TRUSTED_SOURCES); trusted: {'; '.join(self.of(event_type))}"
        )


EventHandler = Callable[[Any, Any, HandlerContext], Awaitable[None]]  # (uow, event, context) -> None


class Unprocessable(Exception):
    """Raised by an event handler for an event that will never succeed: dead-letter it."""


def unprocessable_on(*errors: type[Exception]) -> Callable[[EventHandler], EventHandler]:
    """Mark an event handler's errors that no redelivery can cure: the event is dead-lettered at
    once with the reason, instead of being retried. Anything else (the database away, a fact
    that has not arrived yet) keeps the retry path."""

    def wrap(handler: EventHandler) -> EventHandler:
        @functools.wraps(handler)
        async def handle(uow: Any, event: Any, ctx: HandlerContext) -> None:
            try:
                await handler(uow, event, ctx)
            except errors as exc:
                raise Unprocessable(f"{type(exc).__name__}: {exc}") from exc

        return handle

    return wrap


def backoff(attempt: int) -> float:
    return BACKOFF[min(attempt, len(BACKOFF)) - 1]


@dataclass(kw_only=True)
class EventDispatcher:
    """Routes decoded events to a service's handlers, each in one UnitOfWork with its inbox row."""

    durable: str
    subscriptions: Mapping[type[Event], EventHandler]
    uow_factory: Callable[[], UnitOfWork]
    context: HandlerContext
    max_deliver: int
    metrics: Metrics
    prefix: str
    trusted: TrustedSources = field(default_factory=lambda: TrustedSources())
    future_allowance: timedelta = timedelta(minutes=5)
    #: Events the bus may hand over at once to `settle` (GOVIT_CONSUMER_BATCH); 1: one by one.
    batch: int = 1
    #: What the bus hands over at first and after a retry (shared.puller.BatchSize); None: `batch`.
    least_batch: int | None = None
    handlers: dict[str, EventHandler] = field(init=False)

    def __post_init__(self) -> None:
        self.handlers = {model.model_fields["type"].default: h for model, h in self.subscriptions.items()}

    def filters(self) -> list[str]:
        return [type_filter(self.prefix, t) for t in self.handlers]

    async def __call__(self, delivery: Delivery) -> Outcome:
        outcome = await self._one(delivery, self.check(delivery))
        self.metrics.consumed.labels(self.durable, type(outcome).__name__.lower()).inc()
        return outcome

    async def apply(
        self, envelope: Envelope, manual: ManualRecord | None = None, position: int | None = None
    ) -> bool:
        """Handle one event in one unit of work with its inbox row; False if it was handled before."""
        async with self.uow_factory() as uow:
            if not await self._claim_and_handle(uow, envelope, manual, position):
                return False
            await uow.commit()
        return True

    async def _claim_and_handle(
        self, uow: UnitOfWork, envelope: Envelope, manual: ManualRecord | None, position: int | None
    ) -> bool:
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
        await self._handle_claimed(uow, envelope, manual, position)
        return True

    async def _handle_claimed(
        self, uow: UnitOfWork, envelope: Envelope, manual: ManualRecord | None, position: int | None
    ) -> None:
        context = replace(self.context, envelope=envelope, manual=manual, position=position)
        await self.handlers[envelope.type](uow, envelope.data, context)

    async def settle(self, deliveries: Sequence[Delivery]) -> list[Outcome]:
        """The verdicts on a fetched batch, in its order, after its events were handled in one
        transaction and committed: acknowledge them only now.

        The batch is tried whole first, with no savepoints: every event handled, the transaction
        committed. If an event fails, that transaction is rolled back and the batch is handled
        again with a savepoint per event (`_settle_apart`), where the failing event is rolled back
        alone and gets the verdict it would get on its own.
        """
        checked = [self.check(delivery) for delivery in deliveries]
        if sum(isinstance(c, Envelope) for c in checked) <= 1:  # one event: its own unit of work
            outcomes = [await self._one(d, c) for d, c in zip(deliveries, checked, strict=True)]
        elif (whole := await self._settle_whole(deliveries, checked)) is not None:
            outcomes = whole
        else:
            outcomes = await self._settle_apart(deliveries, checked)
        for outcome in outcomes:
            self.metrics.consumed.labels(self.durable, type(outcome).__name__.lower()).inc()
        return outcomes

    async def _settle_whole(
        self, deliveries: Sequence[Delivery], checked: Sequence[Envelope | Outcome]
    ) -> list[Outcome] | None:
        """Every event of the batch in one transaction with no savepoint; None when one failed
        (nothing of the batch is kept). A failed commit retries the batch's events."""
        try:
            async with self.uow_factory() as uow:
                try:
                    envelopes = [c for c in checked if isinstance(c, Envelope)]
                    new = await uow.claim_all(self.durable, [(e.id, e.type, e.source) for e in envelopes])
                    await uow.preload([e.subject for e in envelopes if e.id in new])
                    for delivery, envelope in zip(deliveries, checked, strict=True):
                        if isinstance(envelope, Envelope):
                            await self._in_part(uow, delivery, envelope, envelope.id in new)
                            new.discard(envelope.id)  # the same event again in the batch: handled
                except Exception as exc:
                    log.info("%s: a batch of %d is handled again apart: %r", self.durable, len(checked), exc)
                    return None
                await uow.commit()
        except Exception as exc:
            log.warning("%s: a batch of %d failed to commit, retrying: %r", self.durable, len(checked), exc)
            return [
                Retry(backoff(d.attempt)) if isinstance(c, Envelope) else c
                for c, d in zip(checked, deliveries, strict=True)
            ]
        return [Ack() if isinstance(c, Envelope) else c for c in checked]

    async def _in_part(self, uow: UnitOfWork, delivery: Delivery, envelope: Envelope, new: bool) -> None:
        """Handle an event claimed with its batch (`new`: not handled before) as a part of `uow`."""
        with self._processing(delivery, envelope) as span:
            if not new:
                span.set_attribute("govit.duplicate", True)
                return
            async with uow.part():
                await self._handle_claimed(uow, envelope, None, delivery.sequence)

    async def _settle_apart(
        self, deliveries: Sequence[Delivery], checked: Sequence[Envelope | Outcome]
    ) -> list[Outcome]:
        """The batch in one transaction, each event in a savepoint of its own.

        A failing event is rolled back alone; later events of its project in the batch wait for
        it (Retry), so that a project's events are still applied in order. If the commit fails,
        nothing of the batch is kept and every event that was to be acknowledged is retried.
        """
        outcomes: list[Outcome] = [
            c if not isinstance(c, Envelope) else Retry(backoff(d.attempt))  # if never reached
            for c, d in zip(checked, deliveries, strict=True)
        ]
        handled: list[int] = []
        try:
            async with self.uow_factory() as uow:
                waiting: set[str] = set()  # projects with an event to retry: their later ones wait
                for i, (delivery, envelope) in enumerate(zip(deliveries, checked, strict=True)):
                    if not isinstance(envelope, Envelope):
                        continue
                    if envelope.subject in waiting or uow.broken:
                        outcomes[i] = Retry(backoff(delivery.attempt))
                        continue
                    outcomes[i] = await self.in_savepoint(uow, delivery, envelope)
                    if isinstance(outcomes[i], Ack):
                        handled.append(i)
                    elif isinstance(outcomes[i], Retry):
                        waiting.add(envelope.subject)
                if uow.broken:
                    raise ConnectionError("the batch's transaction was lost")
                await uow.commit()
        except Exception as exc:
            log.warning("%s: a batch of %d failed to commit, retrying: %r", self.durable, len(handled), exc)
            for i in handled:
                outcomes[i] = Retry(backoff(deliveries[i].attempt))
        return outcomes

    async def in_savepoint(self, uow: UnitOfWork, delivery: Delivery, envelope: Envelope) -> Outcome:
        """Handle one event of a batch in a savepoint of `uow`, under its span and actor."""

        async def run() -> bool:
            try:
                async with uow.savepoint():
                    return await self._claim_and_handle(uow, envelope, None, delivery.sequence)
            except AlreadyHandled:
                return False

        return await self._process(delivery, envelope, run)

    def check(self, delivery: Delivery) -> Envelope | Outcome:
        """The event to handle, or the verdict on a delivery that is not to be handled."""
        if type_of_subject(delivery.subject) not in self.handlers:
            return Ack()  # not subscribed (a broad filter on older servers delivers every event)
        try:
            envelope = decode(delivery.data)
        except UndeliverableEvent as exc:
            return DeadLetter(f"{type(exc).__name__}: {exc}")
        if envelope.type not in self.handlers:
            return Ack()
        refusal = self._refusal(delivery, envelope)
        if refusal is not None:
            return DeadLetter(refusal)
        return envelope

    async def _one(self, delivery: Delivery, checked: Envelope | Outcome) -> Outcome:
        """The verdict on one delivery, its event (if it is to be handled) in a unit of work of its own."""
        if not isinstance(checked, Envelope):
            return checked
        return await self._process(delivery, checked, lambda: self.apply(checked, position=delivery.sequence))

    @contextlib.contextmanager
    def _processing(self, delivery: Delivery, envelope: Envelope) -> Iterator[Span]:
        """The event's consumer span (continuing its producer's trace) and its audit actor."""
        context = propagate.extract(delivery.headers)
        spanning: contextlib.AbstractContextManager[Span]
        if telemetry.recording():
            attributes = {
                "messaging.system": "nats",
                "messaging.operation.type": "process",
                "messaging.destination.name": delivery.subject,
                "messaging.message.id": envelope.id,
                "messaging.consumer.group.name": self.durable,
                "govit.project_id": envelope.subject,
            }
            kind = SpanKind.CONSUMER
            spanning = tracer.start_as_current_span(f"process {envelope.type}", context, kind, attributes)
        else:  # no span to make: the producer's context alone is current (carried on to new events)
            spanning = telemetry.within(context)
        with spanning as span:
            actor = audit.current_actor.set(
                {"kind": "event", "id": envelope.id, "type": envelope.type, "source": envelope.source}
            )
            try:
                yield span
            finally:
                audit.current_actor.reset(actor)

    async def _process(
        self, delivery: Delivery, envelope: Envelope, run: Callable[[], Awaitable[bool]]
    ) -> Outcome:
        with self._processing(delivery, envelope) as span:
            try:
                if not await run():
                    span.set_attribute("govit.duplicate", True)
                return Ack()
            except Unprocessable as exc:
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                return DeadLetter(f"Unprocessable: {exc}")
            except Exception as exc:
                span.record_exception(exc)
                span.set_status(Status(StatusCode.ERROR, str(exc)))
                return self.after_failure(exc, delivery, envelope)

    def _refusal(self, delivery: Delivery, envelope: Envelope) -> str | None:
        """Why the event is not believed or not for this suite (dead-lettered unread), if it is not."""
        if subject_for(self.prefix, envelope.data) != delivery.subject:
            return f"SubjectMismatch: {delivery.subject} does not carry this {envelope.type}"
        if envelope.jurisdiction not in self.context.policy:
            return f"UnknownJurisdiction: no policy pack for {envelope.jurisdiction!r}"
        if not self.trusted.allows(envelope.type, envelope.source, envelope.jurisdiction):
            return self.trusted.refusal(envelope.type, envelope.source, envelope.jurisdiction, self.durable)
        latest = self.context.now() + self.future_allowance
        if envelope.time > latest:
            # A wrong clock or a forged date: nothing the suite decides may rest on it.
            return (
                f"FutureDated: {envelope.type} {envelope.id} is dated {envelope.time.isoformat()}, "
                f"later than {self.durable}'s clock allows ({latest.isoformat()}; "
                "GOVIT_FUTURE_EVENT_ALLOWANCE_SECONDS)"
            )
        return None

    def after_failure(self, exc: Exception, delivery: Delivery, envelope: Envelope) -> Outcome:
        if is_transient(exc):
            # The database or network is away: the event is fine, wait and retry for ever.
            log.warning("%s: infrastructure away, retrying %s: %r", self.durable, envelope.id, exc)
            return Retry(backoff(delivery.attempt))
        if delivery.attempt >= self.max_deliver:
            return DeadLetter(f"gave up after {delivery.attempt} deliveries: {exc!r}")
        log.warning("%s on %s failed (attempt %s): %r", self.durable, envelope.type, delivery.attempt, exc)
        return Retry(backoff(delivery.attempt))
