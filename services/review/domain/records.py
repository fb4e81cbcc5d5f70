"""The typed records a review case keeps: panel seats with their opinions, issued reports, and the
conclusion the panel reached. Each converts to and from the JSON the cases table stores."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from services.review.domain.drawing import Seat
from services.review.domain.rules import TimeLimit, Verdict
from services.review.domain.stored import Stored
from shared.policy import Reason


class SeatState(StrEnum):
    SEATED = "seated"
    DECLINED = "declined"  # 谢绝或回避: replaced by a seat drawn after it


@dataclass(frozen=True)
class Opinion:
    """One expert's score, verdict and comments (评审意见)."""

    score: int
    verdict: Verdict
    comments: str

    def stored(self) -> dict[str, Any]:
        return {"score": self.score, "verdict": self.verdict.value, "comments": self.comments}

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Opinion:
        return cls(int(stored["score"]), Verdict(stored["verdict"]), str(stored["comments"]))


@dataclass(frozen=True)
class PanelSeat(Stored):
    """A seat of the case's panel: who holds it, the specialty it fills, its rank in the draw."""

    expert_id: str
    specialty: str | None
    rank: int
    state: SeatState = SeatState.SEATED
    opinion: Opinion | None = None

    @classmethod
    def drawn(cls, seat: Seat) -> PanelSeat:
        return cls(seat.expert_id, seat.specialty, seat.rank)

    @property
    def seated(self) -> bool:
        return self.state is SeatState.SEATED

    def stored(self) -> dict[str, Any]:
        stored: dict[str, Any] = {
            "expert_id": self.expert_id,
            "specialty": self.specialty,
            "rank": self.rank,
            "state": self.state.value,
        }
        if self.opinion is not None:
            stored["opinion"] = self.opinion.stored()
        return stored

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> PanelSeat:
        opinion = stored.get("opinion")
        return cls(
            expert_id=str(stored["expert_id"]),
            specialty=stored["specialty"],
            rank=int(stored["rank"]),
            state=SeatState(stored["state"]),
            opinion=Opinion.from_stored(opinion) if opinion else None,
        )


@dataclass(frozen=True)
class Report(Stored):
    """评审报告（通过）或书面评审意见（未通过）, issued once per round."""

    round: int
    verdict: Verdict
    document: str
    issued_on: dt.date

    def stored(self) -> dict[str, Any]:
        return {
            "round": self.round,
            "verdict": self.verdict.value,
            "document": self.document,
            "issued_on": self.issued_on.isoformat(),
        }

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Report:
        return cls(
            round=int(stored["round"]),
            verdict=Verdict(stored["verdict"]),
            document=str(stored["document"]),
            issued_on=dt.date.fromisoformat(stored["issued_on"]),
        )


@dataclass(frozen=True)
class Conclusion:
    """What the panel concluded and what follows: the materials redone from scratch after too many
    failures (lhasa §11), the time limit the conclusion starts, the articles cited."""

    verdict: Verdict
    at: dt.datetime
    resubmission: Reason | None = None
    next_limit: TimeLimit | None = None
    articles: tuple[str, ...] = ()
    method: str = ""  # how the conclusion was reached, with its footing (rules.conclusion_method)

    @property
    def revising(self) -> bool:
        """Not passed: the agency revises and the panel reviews again, unless the materials are
        to be redone from scratch."""
        return self.verdict is not Verdict.PASS and self.resubmission is None


@dataclass(frozen=True)
class Submission:
    """What a case reviews: a project at a stage (about a change or an application, `reference`),
    the declaring agency and the parties avoided with it, the articles asking for the review."""

    project_id: str
    jurisdiction: str
    stage: str
    agency: str
    parties: tuple[str, ...] = ()
    reference: str | None = None
    articles: tuple[str, ...] = ()
