"""The records of the acceptance itself and after it: the applications (rounds) with their
conclusions, and the evaluations. Stored as their JSON, as records.py explains."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field

from services.acceptance.domain.records import Stored, day_of, dump_notes, iso, load_notes
from shared.contracts.envelope import Citation


@dataclass(frozen=True)
class Application:
    """One final-acceptance application (a round): submitted, returned or admitted, concluded."""

    id: str
    round: int
    status: str  # submitted | returned | admitted | passed | failed
    materials: Mapping[str, str]
    archives_accepted: bool
    submitted_on: dt.date
    submitted_by: str
    notes: tuple[Citation, ...] = ()
    reason: str | None = None  # returned with this reason
    decided_by: str | None = None
    experts: bool | None = None  # admitted: an expert panel concludes
    concluded_on: dt.date | None = None  # the conclusion's fields, once concluded
    concluded_by: str | None = None
    rectification_items: tuple[str, ...] = field(default=())
    rectification_due: dt.date | None = None

    @classmethod
    def from_stored(cls, d: Stored) -> Application:
        return cls(
            d["id"],
            int(d["round"]),
            d["status"],
            dict(d.get("materials", {})),
            bool(d.get("archives_accepted")),
            dt.date.fromisoformat(d["submitted_on"]),
            d.get("submitted_by", ""),
            load_notes(d.get("notes", ())),
            d.get("reason"),
            d.get("decided_by"),
            d.get("experts"),
            day_of(d.get("concluded_on")),
            d.get("concluded_by"),
            tuple(d.get("rectification_items", ())),
            day_of(d.get("rectification_due")),
        )

    def stored(self) -> Stored:
        out: Stored = {
            "id": self.id,
            "round": self.round,
            "status": self.status,
            "materials": dict(self.materials),
            "archives_accepted": self.archives_accepted,
            "submitted_on": self.submitted_on.isoformat(),
            "submitted_by": self.submitted_by,
            "notes": dump_notes(self.notes),
        }
        for key in ("reason", "decided_by", "experts"):
            if getattr(self, key) is not None:
                out[key] = getattr(self, key)
        if self.concluded_on is not None:
            out |= {
                "concluded_on": self.concluded_on.isoformat(),
                "concluded_by": self.concluded_by,
                "rectification_items": list(self.rectification_items),
                "rectification_due": iso(self.rectification_due),
            }
        return out


@dataclass(frozen=True)
class Evaluation:
    """绩效自评、后评价 or first-year evaluation, and the confirmation its problems were fixed."""

    id: str
    evaluation: str  # self | post | first_year
    period: str | None
    serious_problems: tuple[str, ...]
    rectified: bool
    rectification_due: dt.date | None
    summary: str
    recorded_on: dt.date
    by: str
    notes: tuple[Citation, ...] = ()
    rectified_on: dt.date | None = None
    rectified_by: str | None = None

    @classmethod
    def from_stored(cls, d: Stored) -> Evaluation:
        return cls(
            d["id"],
            d["evaluation"],
            d.get("period"),
            tuple(d.get("serious_problems", ())),
            bool(d["rectified"]),
            day_of(d.get("rectification_due")),
            d.get("summary", ""),
            dt.date.fromisoformat(d["recorded_on"]),
            d.get("by", ""),
            load_notes(d.get("notes", ())),
            day_of(d.get("rectified_on")),
            d.get("rectified_by"),
        )

    def stored(self) -> Stored:
        out: Stored = {
            "id": self.id,
            "evaluation": self.evaluation,
            "period": self.period,
            "serious_problems": list(self.serious_problems),
            "rectified": self.rectified,
            "rectification_due": iso(self.rectification_due),
            "summary": self.summary,
            "recorded_on": self.recorded_on.isoformat(),
            "by": self.by,
            "notes": dump_notes(self.notes),
        }
        if self.rectified_on is not None:
            out |= {"rectified_on": self.rectified_on.isoformat(), "rectified_by": self.rectified_by}
        return out
