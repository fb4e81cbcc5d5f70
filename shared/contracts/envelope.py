"""The CloudEvents 1.0 envelope (structured JSON mode) around govit's event payloads."""

from __future__ import annotations

import functools
import json
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Annotated, Any, ClassVar

from cloudevents.core.exceptions import BaseCloudEventException
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    StringConstraints,
    model_serializer,
    model_validator,
)

from shared.workdays import is_provisional

CONTENT_TYPE = "application/cloudevents+json"
#: CloudEvents extension attribute (the documented "sequence" extension): the producer's number
#: for the event among its events about the same project, 1, 2, 3 … in the order they committed.
#: Written as a zero-padded decimal string, so that it orders lexicographically as the extension asks.
SEQUENCE = "sequence"
SEQUENCE_DIGITS = 20
DATA_CONTENT_TYPE = "application/json"
_FORMAT = JSONFormat()

# Subject tokens: ids and codes must be safe to place between NATS subject dots.
ProjectId = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Jurisdiction = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,32}$")]
# Names as the services store them: longer ones are not events any service could have sent.
Agency = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Title = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class Event(BaseModel):
    """Base of every event payload: frozen, about one project, unknown fields ignored. A type's
    validator is built when it is first used: a service holds those of the events it handles."""

    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    #: The versioned CloudEvents type, e.g. "govit.intake.project_approved.v1".
    type: str
    project_id: ProjectId
    jurisdiction: Jurisdiction

    summary: ClassVar[str] = ""

    @model_validator(mode="before")
    @classmethod
    def _provisional_beside_due_dates(cls, data: Any) -> Any:
        """A `<due date>_provisional` flag not given is said by the calendar the process runs by:
        暂定 when the due date's year has no holiday arrangement yet (shared.workdays)."""
        flags = _provisional_flags(cls)
        if not flags or not isinstance(data, dict) or all(flag in data for flag, _ in flags):
            return data
        filled = dict(data)
        for flag, due in flags:
            if flag not in filled:
                filled[flag] = is_provisional(_as_date(filled.get(due)))
        return filled


PROVISIONAL = "_provisional"


@functools.cache
def _provisional_flags(model: type[BaseModel]) -> tuple[tuple[str, str], ...]:
    """The model's (flag, due date field) pairs: `due_on_provisional` beside `due_on`."""
    names = model.model_fields
    return tuple(
        (name, name.removesuffix(PROVISIONAL))
        for name in names
        if name.endswith(PROVISIONAL) and name.removesuffix(PROVISIONAL) in names
    )


def _as_date(value: Any) -> date | None:
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            return None  # the field's own validation says what is wrong
    return None


class Citation(BaseModel):
    """A rule's verdict carried in an event: a stable code, the articles, and the message people read."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    code: str
    rule: str = Field(description="the first article cited, e.g. 'shexian §13'")
    articles: tuple[str, ...] = ()
    message: str = ""
    in_principle: bool = Field(
        default=False, description="原则上：条文留有例外余地，决定者可说明理由、注明文号后作出例外"
    )

    @model_serializer(mode="wrap")
    def _only_when_in_principle(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """`in_principle` is written only when true: verdicts stored before it read the same."""
        data: dict[str, Any] = handler(self)
        if not self.in_principle:
            data.pop("in_principle", None)
        return data


class UndeliverableEvent(Exception):
    """A message that can never be processed: it goes to the dead-letter subject."""


class MalformedEnvelope(UndeliverableEvent):
    """Not a CloudEvents 1.0 JSON document."""


class UnknownEventType(UndeliverableEvent):
    """A well-formed envelope whose type no catalog entry has."""


class InvalidEventData(UndeliverableEvent):
    """The envelope's data does not satisfy its type's schema."""


@dataclass(frozen=True, slots=True)
class Envelope:
    """A decoded event with its CloudEvents attributes."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str
    data: Event
    #: The producer's number for this event among its events about the project (SEQUENCE);
    #: None when the producer does not number its events.
    sequence: int | None = None

    @property
    def jurisdiction(self) -> str:
        return self.data.jurisdiction


def subject_for(prefix: str, event: Event) -> str:
    """NATS subject `<prefix>.events.<jurisdiction>.<project>.<service>.<name>.<version>`.

    A subscriber filters one region with `govit.events.shexian.>` and one project with
    `govit.events.*.<project>.>`.
    """
    _, service, name, version = event.type.split(".")
    return f"{prefix}.events.{event.jurisdiction}.{event.project_id}.{service}.{name}.{version}"


def type_filter(prefix: str, event_type: str) -> str:
    """The subject filter matching every event of one type, in every region and project."""
    _, service, name, version = event_type.split(".")
    return f"{prefix}.events.*.*.{service}.{name}.{version}"


def type_of_subject(subject: str) -> str:
    """The event type a subject carries (its last three tokens), e.g. govit.intake.project_approved.v1."""
    return "govit." + ".".join(subject.split(".")[-3:])


def encode(
    event: Event,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    sequence: int | None = None,
) -> bytes:
    attributes: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()),
        "source": source,
        "type": event.type,
        "specversion": "1.0",
        "time": time or datetime.now(UTC),
        "subject": event.project_id,
        "datacontenttype": DATA_CONTENT_TYPE,
        "jurisdiction": event.jurisdiction,
    }
    if sequence is not None:
        attributes[SEQUENCE] = format_sequence(sequence)
    data = event.model_dump(mode="json", exclude={"type"})
    return _FORMAT.write(CloudEvent(attributes, data))


def format_sequence(number: int) -> str:
    """The SEQUENCE attribute's value for a number: zero-padded, so strings order as numbers do."""
    if number < 1:
        raise ValueError("an event's sequence number starts at 1")
    return str(number).zfill(SEQUENCE_DIGITS)


def parse_sequence(value: Any) -> int | None:
    """The number a SEQUENCE attribute carries; MalformedEnvelope unless it is a positive decimal."""
    if value is None:
        return None
    text = str(value)
    if not (text.isascii() and text.isdigit()) or len(text) > SEQUENCE_DIGITS or int(text) < 1:
        raise MalformedEnvelope(f"the {SEQUENCE} attribute must be a positive decimal number, not {text!r}")
    return int(text)


def read_envelope(raw: bytes) -> tuple[dict[str, Any], dict[str, Any]]:
    """The attributes and JSON data of a structured CloudEvent, or MalformedEnvelope."""
    try:
        document = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise MalformedEnvelope(f"not JSON: {exc}") from exc
    # Checked before the library sees it: it would invent an id or time for a message lacking one.
    if not isinstance(document, dict):
        raise MalformedEnvelope("a structured CloudEvent is a JSON object")
    missing = [a for a in ("id", "source", "type", "specversion", "time") if not document.get(a)]
    if missing:
        raise MalformedEnvelope(f"missing attributes: {', '.join(missing)}")
    try:
        event = _FORMAT.read(CloudEvent, raw)
    except (ValueError, TypeError, KeyError, AttributeError, BaseCloudEventException) as exc:
        raise MalformedEnvelope(f"not a CloudEvents 1.0 JSON envelope: {exc}") from exc
    attributes = event.get_attributes()
    if attributes.get("specversion") != "1.0":
        raise MalformedEnvelope(f"unsupported specversion {attributes.get('specversion')!r}")
    data = event.get_data()
    if isinstance(data, (str, bytes)):
        try:
            data = json.loads(data)
        except ValueError as exc:
            raise MalformedEnvelope("data is not JSON") from exc
    if not isinstance(data, dict):
        raise MalformedEnvelope("data must be a JSON object")
    return attributes, data
