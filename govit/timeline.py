"""A project's lifecycle read back from the stream: every service's events about it, in order."""

from __future__ import annotations

from typing import Any

from shared.bus import JetStreamBus
from shared.contracts import decode
from shared.contracts.envelope import Envelope, UndeliverableEvent, encode
from shared.money import yuan
from shared.workdays import SHANGHAI

_QUIET = {"type", "project_id", "jurisdiction"}


async def project_events(bus: JetStreamBus, project_id: str, *, batch: int = 256) -> list[Envelope]:
    """Every event on the stream about one project, oldest first (an ephemeral consumer)."""
    js = bus.nc.jetstream()
    sub = await js.pull_subscribe(f"{bus.prefix}.events.*.{project_id}.>", durable=None, stream=bus.stream)
    found: list[Envelope] = []
    try:
        while True:
            try:
                messages = await sub.fetch(batch=batch, timeout=1)
            except TimeoutError:
                break
            for message in messages:
                await message.ack()
                try:
                    found.append(decode(message.data))
                except UndeliverableEvent:
                    continue
            if len(messages) < batch:
                break
    finally:
        await sub.unsubscribe()
    return found


def as_cloudevent(envelope: Envelope) -> str:
    """The event as one line of structured CloudEvents 1.0 JSON, written by the CloudEvents SDK as
    the services write it: specversion, id, source, type, subject, time, datacontenttype, data and
    the suite's extensions (jurisdiction, and the producer's sequence where it numbers events)."""
    raw = encode(
        envelope.data,
        source=envelope.source,
        event_id=envelope.id,
        time=envelope.time,
        sequence=envelope.sequence,
    )
    return raw.decode("utf-8")


def _value(name: str, value: Any) -> str:
    if name.endswith("_fen") and isinstance(value, int):
        return f"¥{yuan(value)}"
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], dict):
            parts = [str(v.get("message") or v.get("name") or v.get("code") or v) for v in value]
            return "；".join(parts)
        return "、".join(str(v) for v in value)
    return str(value)


def describe(envelope: Envelope) -> str:
    """One line for people: when (Asia/Shanghai), which service, what happened, the details."""
    event = envelope.data
    when = envelope.time.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
    service = envelope.type.split(".")[1]
    data = event.model_dump(mode="json")
    details = "  ".join(
        f"{k}={_value(k, v)}"
        for k, v in data.items()
        if k not in _QUIET and v not in (None, "", [], {}, False)
    )
    return f"{when}  {service:<11} {type(event).summary or envelope.type}  [{envelope.type}]  {details}"
