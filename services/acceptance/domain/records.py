"""The project's records as typed values, each with the JSON it is stored (and shown) as.

`stored()` gives exactly the dictionary the database column holds and the API shows;
`from_stored()` reads it back. Keys that appear only once a record moves on (a decision, a
conclusion, a rectification) are written only then, as they always were.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shared.contracts.envelope import Citation
from shared.policy import Reason, citations

Stored = dict[str, Any]


def iso(day: dt.date | dt.datetime | None) -> str | None:
    return day.isoformat() if day is not None else None


def day_of(value: Any) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


def instant_of(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def notes_of(reasons: Sequence[Reason]) -> tuple[Citation, ...]:
    """Reasons kept on a record as the citations events carry."""
    return citations(reasons)


def load_notes(stored: Iterable[Any]) -> tuple[Citation, ...]:
    return tuple(Citation.model_validate(n) for n in stored)


def dump_notes(notes: Iterable[Citation]) -> list[Stored]:
    return [n.model_dump(mode="json") for n in notes]


@dataclass(frozen=True)
class InitialAcceptance:
    """初验 by the unit."""

    held_on: dt.date
    passed: bool
    findings: str = ""
    by: str = ""
    late: bool = False
    notes: tuple[Citation, ...] = ()

    @classmethod
    def from_stored(cls, d: Stored) -> InitialAcceptance:
        return cls(
            dt.date.fromisoformat(d["held_on"]),
            bool(d["passed"]),
            d.get("findings", ""),
            d.get("by", ""),
            bool(d.get("late")),
            load_notes(d.get("notes", ())),
        )

    def stored(self) -> Stored:
        return {
            "held_on": self.held_on.isoformat(),
            "passed": self.passed,
            "findings": self.findings,
            "by": self.by,
            "late": self.late,
            "notes": dump_notes(self.notes),
        }


@dataclass(frozen=True)
class DataSharing:
    """The data resources catalogue and sharing list, and the authority's decision on it."""

    status: str  # submitted | confirmed | refused | revoked
    catalogue: tuple[str, ...] = ()
    items: tuple[str, ...] = ()
    submitted_by: str = ""
    submitted_at: dt.datetime | None = None
    duplicate_collection: bool | None = None  # the decision's fields, once decided
    reason: str | None = None
    decided_by: str | None = None
    decided_at: dt.datetime | None = None

    @classmethod
    def from_stored(cls, d: Stored) -> DataSharing:
        return cls(
            d["status"],
            tuple(d.get("catalogue", ())),
            tuple(d.get("items", ())),
            d.get("submitted_by", ""),
            instant_of(d.get("submitted_at")),
            d.get("duplicate_collection"),
            d.get("reason"),
            d.get("decided_by"),
            instant_of(d.get("decided_at")),
        )

    def stored(self) -> Stored:
        out: Stored = {
            "status": self.status,
            "catalogue": list(self.catalogue),
            "items": list(self.items),
            "submitted_by": self.submitted_by,
            "submitted_at": iso(self.submitted_at),
        }
        if self.decided_at is not None:
            out |= {
                "duplicate_collection": self.duplicate_collection,
                "reason": self.reason,
                "decided_by": self.decided_by,
                "decided_at": iso(self.decided_at),
            }
        return out


@dataclass(frozen=True)
class Attestation:
    """等保测评, 密评, or for a classified system 保密测评 and 保密审查 (shexian §42), with its
    validity and, where given, who issued it (and at what level, for a 保密行政管理部门)."""

    attestation: str  # mlps | crypto | secrecy_assessment | secrecy_approval
    compliant: bool
    reference: str
    issued_on: dt.date
    valid_until: dt.date | None
    by: str
    issuer: str = ""
    issuer_level: str | None = None  # county | city | province | national

    @classmethod
    def from_stored(cls, d: Stored) -> Attestation:
        return cls(
            d["attestation"],
            bool(d["compliant"]),
            d["reference"],
            dt.date.fromisoformat(d["issued_on"]),
            day_of(d.get("valid_until")),
            d.get("by", ""),
            d.get("issuer", ""),
            d.get("issuer_level"),
        )

    def stored(self) -> Stored:
        out: Stored = {
            "attestation": self.attestation,
            "compliant": self.compliant,
            "reference": self.reference,
            "issued_on": self.issued_on.isoformat(),
            "valid_until": iso(self.valid_until),
            "by": self.by,
        }
        if self.issuer:
            out |= {"issuer": self.issuer, "issuer_level": self.issuer_level}
        return out


@dataclass(frozen=True)
class AuditReport:
    reference: str
    issued_on: dt.date
    auditor: str
    by: str

    @classmethod
    def from_stored(cls, d: Stored) -> AuditReport:
        return cls(
            d["reference"], dt.date.fromisoformat(d["issued_on"]), d.get("auditor", ""), d.get("by", "")
        )

    def stored(self) -> Stored:
        return {
            "reference": self.reference,
            "issued_on": self.issued_on.isoformat(),
            "auditor": self.auditor,
            "by": self.by,
        }


@dataclass(frozen=True)
class Delay:
    """延期验收申请 and the authority's decision."""

    until: dt.date
    reason: str
    status: str  # pending | approved | refused
    by: str
    comment: str | None = None  # the decision's fields, once decided
    decided_by: str | None = None

    @classmethod
    def from_stored(cls, d: Stored) -> Delay:
        return cls(
            dt.date.fromisoformat(d["until"]),
            d["reason"],
            d["status"],
            d.get("by", ""),
            d.get("comment"),
            d.get("decided_by"),
        )

    def stored(self) -> Stored:
        out: Stored = {
            "until": self.until.isoformat(),
            "reason": self.reason,
            "status": self.status,
            "by": self.by,
        }
        if self.decided_by is not None:
            out |= {"comment": self.comment, "decided_by": self.decided_by}
        return out


@dataclass(frozen=True)
class Report:
    """The acceptance report filed after the acceptance."""

    reference: str
    filed_on: dt.date
    late: bool
    notes: tuple[Citation, ...]
    by: str

    @classmethod
    def from_stored(cls, d: Stored) -> Report:
        return cls(
            d["reference"],
            dt.date.fromisoformat(d["filed_on"]),
            bool(d.get("late")),
            load_notes(d.get("notes", ())),
            d.get("by", ""),
        )

    def stored(self) -> Stored:
        return {
            "reference": self.reference,
            "filed_on": self.filed_on.isoformat(),
            "late": self.late,
            "notes": dump_notes(self.notes),
            "by": self.by,
        }


@dataclass(frozen=True)
class Rectification:
    """What a failed acceptance left to fix, and by when."""

    items: tuple[str, ...]
    due_on: dt.date | None

    @classmethod
    def from_stored(cls, d: Stored) -> Rectification:
        return cls(tuple(d.get("items", ())), day_of(d.get("due_on")))

    def stored(self) -> Stored:
        return {"items": list(self.items), "due_on": iso(self.due_on)}
