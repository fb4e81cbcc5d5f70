"""The records a project keeps inside itself (stored as JSON): requirements, tenders, reports."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, replace
from typing import Any


def new_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True)
class Filing:
    """Who files (requests, submits), when, under which idempotency key."""

    by: str
    at: dt.datetime
    idempotency_key: str | None = None


@dataclass(frozen=True)
class Requirements:
    """采购需求 and the authority's review of it."""

    status: str  # submitted | approved | returned
    summary: str
    submitted_by: str
    submitted_at: dt.datetime
    comment: str | None = None
    reviewed_by: str | None = None
    reviewed_at: dt.datetime | None = None

    def reviewed(self, approved: bool, comment: str, by: str, at: dt.datetime) -> Requirements:
        status = "approved" if approved else "returned"
        return replace(self, status=status, comment=comment, reviewed_by=by, reviewed_at=at)

    @property
    def approved(self) -> bool:
        return self.status == "approved"

    def stored(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "status": self.status,
            "summary": self.summary,
            "submitted_by": self.submitted_by,
            "submitted_at": self.submitted_at.isoformat(),
        }
        if self.reviewed_at is not None:
            out |= {"comment": self.comment, "reviewed_by": self.reviewed_by}
            out["reviewed_at"] = self.reviewed_at.isoformat()
        return out

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Requirements:
        reviewed_at = data.get("reviewed_at")
        return cls(
            status=data["status"],
            summary=data["summary"],
            submitted_by=data["submitted_by"],
            submitted_at=dt.datetime.fromisoformat(data["submitted_at"]),
            comment=data.get("comment"),
            reviewed_by=data.get("reviewed_by"),
            reviewed_at=dt.datetime.fromisoformat(reviewed_at) if reviewed_at else None,
        )


@dataclass(frozen=True)
class Tender:
    """采购结果: how it was procured, when, and who won at what price."""

    method: str
    announced_on: dt.date | None
    awarded_on: dt.date
    bidders: tuple[str, ...]
    winner: str
    winner_credit_code: str
    amount_fen: int
    id: str = ""
    recorded_by: str = ""

    @property
    def started_on(self) -> dt.date:
        """Its announcement, or its award where no announcement was recorded."""
        return self.announced_on or self.awarded_on

    def stored(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "method": self.method,
            "announced_on": self.announced_on.isoformat() if self.announced_on else None,
            "awarded_on": self.awarded_on.isoformat(),
            "bidders": list(self.bidders),
            "winner": self.winner,
            "winner_credit_code": self.winner_credit_code,
            "amount_fen": self.amount_fen,
            "recorded_by": self.recorded_by,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Tender:
        announced = data.get("announced_on")
        return cls(
            id=data["id"],
            method=data["method"],
            announced_on=dt.date.fromisoformat(announced) if announced else None,
            awarded_on=dt.date.fromisoformat(data["awarded_on"]),
            bidders=tuple(data["bidders"]),
            winner=data["winner"],
            winner_credit_code=data["winner_credit_code"],
            amount_fen=data["amount_fen"],
            recorded_by=data["recorded_by"],
        )


@dataclass(frozen=True)
class Report:
    """实施方案, 进度或绩效报告, 逾期情况说明 as reported."""

    kind: str
    period: str | None
    summary: str
    submitted_on: dt.date
    by: str

    def stored(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "period": self.period,
            "summary": self.summary,
            "submitted_on": self.submitted_on.isoformat(),
            "by": self.by,
        }

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Report:
        return cls(
            kind=data["kind"],
            period=data["period"],
            summary=data["summary"],
            submitted_on=dt.date.fromisoformat(data["submitted_on"]),
            by=data["by"],
        )
