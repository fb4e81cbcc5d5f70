"""Event contracts: the envelope and one module per producing service, and the catalog of all."""

from shared.contracts.catalog import CATALOG, decode
from shared.contracts.envelope import (
    Envelope,
    Event,
    InvalidEventData,
    MalformedEnvelope,
    UndeliverableEvent,
    UnknownEventType,
    encode,
    subject_for,
    type_filter,
)

__all__ = [
    "CATALOG",
    "Envelope",
    "Event",
    "InvalidEventData",
    "MalformedEnvelope",
    "UndeliverableEvent",
    "UnknownEventType",
    "decode",
    "encode",
    "subject_for",
    "type_filter",
]
