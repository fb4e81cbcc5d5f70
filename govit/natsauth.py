"""NATS users for the suite: who may publish what, so that an event's source can be believed.

A consuming service believes an event by its CloudEvents source (shared.consume.TrustedSources);
the broker is what makes that hold. Each service's user may publish only its own events
(`<prefix>.events.*.*.<service>.>`), its own dead letters and its own audit anchors
(`<prefix>.audit.<service>.>`, shared.audit_anchor), work only its own durable
consumer on the suite's stream, and receive only on its own inbox prefix. Another system gets
a user of its own: a publisher for the event types it is trusted with, a subscriber for reading
with its own durable consumer. `govit nats-config` writes the nats-server `authorization` block.

Passwords are not written here: each user's password is a nats-server variable
(`$GOVIT_NATS_PASSWORD_FUNDING`, set in the server's environment from a secret), and each
client puts the same password in its URL (`nats://funding:…@nats:4222`).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from shared.bus import dead_letter_subject, inbox_prefix
from shared.contracts.envelope import type_filter

SERVICES = ("intake", "review", "procurement", "acceptance", "funding")


@dataclass(frozen=True)
class NatsUser:
    """One nats-server user: its name, the password variable, what it may publish and receive."""

    name: str
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]

    @property
    def password_variable(self) -> str:
        return "GOVIT_NATS_PASSWORD_" + "".join(c if c.isalnum() else "_" for c in self.name.upper())


def _stream_api(stream: str, durable: str, *, manage_stream: bool) -> list[str]:
    """The JetStream API a client needs to work one durable pull consumer (nats-py's subjects)."""
    api = "$JS.API"
    subjects = [
        f"{api}.STREAM.INFO.{stream}",
        f"{api}.CONSUMER.CREATE.{stream}.{durable}",
        f"{api}.CONSUMER.CREATE.{stream}.{durable}.>",
        f"{api}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
        f"{api}.CONSUMER.INFO.{stream}.{durable}",
        f"{api}.CONSUMER.MSG.NEXT.{stream}.{durable}",
        f"$JS.ACK.{stream}.{durable}.>",  # ack, nak and term go to the delivered message's reply
    ]
    if manage_stream:  # services create the stream if it is missing and add missing subjects
        subjects += [f"{api}.STREAM.CREATE.{stream}", f"{api}.STREAM.UPDATE.{stream}"]
    return subjects


def service_user(service: str, *, prefix: str, stream: str) -> NatsUser:
    """A govit service: its own events, dead letters and audit anchors, its own durable consumer."""
    return NatsUser(
        name=service,
        publish=(
            f"{prefix}.events.*.*.{service}.>",
            dead_letter_subject(prefix, service),
            f"{prefix}.audit.{service}.>",
            *_stream_api(stream, service, manage_stream=True),
        ),
        subscribe=(f"{inbox_prefix(service)}.>",),
    )


@dataclass(frozen=True)
class Publisher:
    """Another system trusted with some event types, for some jurisdictions ("*" for all)."""

    event_types: tuple[str, ...]
    jurisdictions: tuple[str, ...]


def publisher_user(name: str, publisher: Publisher, *, prefix: str) -> NatsUser:
    """Another system that publishes some event types under its own source (GOVIT_TRUSTED_SOURCES),
    only on the subjects of the jurisdictions it speaks for."""
    subjects = [
        type_filter(prefix, t)
        if j == "*"
        else type_filter(prefix, t).replace(f"{prefix}.events.*.", f"{prefix}.events.{j}.", 1)
        for t in publisher.event_types
        for j in publisher.jurisdictions
    ]
    return NatsUser(
        name=name,
        publish=tuple(dict.fromkeys(subjects)),
        subscribe=(f"{inbox_prefix(name)}.>",),  # the stream's publish acknowledgements
    )


def subscriber_user(name: str, *, prefix: str, stream: str) -> NatsUser:
    """Another system reading the events with a durable consumer named after it."""
    return NatsUser(
        name=name,
        publish=tuple(_stream_api(stream, name, manage_stream=False)),
        subscribe=(f"{inbox_prefix(name)}.>",),
    )


def admin_user(name: str = "admin") -> NatsUser:
    """Operators (govit dlq replay, govit publish, govit audit verify, nats CLI): everything."""
    return NatsUser(name=name, publish=(">",), subscribe=(">",))


def suite_users(
    *,
    prefix: str,
    stream: str,
    services: Sequence[str] = SERVICES,
    publishers: dict[str, Publisher] | None = None,
    subscribers: Sequence[str] = (),
    admin: bool = True,
) -> list[NatsUser]:
    users = [service_user(s, prefix=prefix, stream=stream) for s in services]
    users += [publisher_user(n, p, prefix=prefix) for n, p in (publishers or {}).items()]
    users += [subscriber_user(n, prefix=prefix, stream=stream) for n in subscribers]
    if admin:
        users.append(admin_user())
    return users


def server_config(users: Sequence[NatsUser]) -> str:
    """The nats-server `authorization` block for these users (include it in the server's config)."""

    def strings(values: Sequence[str]) -> str:
        return "[" + ", ".join(json.dumps(v) for v in values) + "]"

    names = [u.name for u in users]
    if len(set(names)) != len(names):
        raise ValueError(f"each NATS user needs a name of its own: {names}")
    lines = ["authorization {", "  users = ["]
    for user in users:
        lines += [
            "    {",
            f"      user: {json.dumps(user.name)}",
            f"      password: ${user.password_variable}",
            "      permissions: {",
            f"        publish: {{ allow: {strings(user.publish)} }}",
            f"        subscribe: {{ allow: {strings(user.subscribe)} }}",
            "      }",
            "    }",
        ]
    lines += ["  ]", "}", ""]
    return "\n".join(lines)
