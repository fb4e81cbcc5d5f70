"""A service-level event: the head of a service's audit chain, published as an anchor.

Unlike the lifecycle events it is about no project: its NATS subject is
`<prefix>.audit.<service>.anchored.v1` and its CloudEvents `subject` is the service's name.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Annotated, Any, ClassVar, Final, Literal

from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from shared.contracts.envelope import DATA_CONTENT_TYPE, MalformedEnvelope, read_envelope

ANCHORED: Final = "govit.audit.anchored.v1"
PRODUCERS = ("intake", "review", "procurement", "acceptance", "funding")
_FORMAT = JSONFormat()

Hex64 = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class AuditAnchored(BaseModel):
    """审计链锚点 — a service's audit chain had `n` entries, the last with hash `hash`.

    `mac` is the HMAC (`alg`) under the service's audit key of the canonical JSON of
    {service, n, hash, alg}: an anchor published without the key is noticed as forged.
    Every anchor a service ever published must still hold: entry `n` keeps `hash`.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    type: Literal["govit.audit.anchored.v1"] = ANCHORED
    service: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,31}$")]
    n: int = Field(ge=1, description="the chain's length: position of its last entry")
    hash: Hex64 = Field(description="the hash of entry n")
    alg: Literal["hmac-sha256", "hmac-sm3"] = Field(description="the HMAC that made `mac`")
    mac: Hex64

    summary: ClassVar[str] = "审计链头已锚定"

    def signed_part(self) -> dict[str, Any]:
        """What `mac` covers."""
        return {"service": self.service, "n": self.n, "hash": self.hash, "alg": self.alg}


def anchor_subject(prefix: str, service: str) -> str:
    return f"{prefix}.audit.{service}.anchored.v1"


def encode_anchor(
    anchor: AuditAnchored, *, time: datetime | None = None, event_id: str | None = None
) -> bytes:
    """A structured CloudEvent, source /govit/<service>, subject the service."""
    attributes: dict[str, Any] = {
        "id": event_id or str(uuid.uuid4()),
        "source": f"/govit/{anchor.service}",
        "type": ANCHORED,
        "specversion": "1.0",
        "time": time or datetime.now(UTC),
        "subject": anchor.service,
        "datacontenttype": DATA_CONTENT_TYPE,
    }
    return _FORMAT.write(CloudEvent(attributes, anchor.model_dump(mode="json", exclude={"type"})))


def decode_anchor(raw: bytes) -> AuditAnchored:
    """The anchor in a message, or MalformedEnvelope."""
    attributes, data = read_envelope(raw)
    if attributes.get("type") != ANCHORED:
        raise MalformedEnvelope(f"not an audit anchor: {attributes.get('type')!r}")
    try:
        anchor = AuditAnchored.model_validate({**data, "type": ANCHORED})
    except ValidationError as exc:
        raise MalformedEnvelope(f"{ANCHORED}: {exc.error_count()} schema errors") from exc
    if attributes.get("subject") != anchor.service:
        raise MalformedEnvelope("subject must equal data.service")
    return anchor
