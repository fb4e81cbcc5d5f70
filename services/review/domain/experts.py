"""The expert pool (专家库): an expert registered in one pool, with a status held in that pool only."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from services.review.domain.drawing import Candidate, ExpertStatus
from services.review.domain.errors import ExpertNotFound, InvalidCaseState, ReviewError
from shared.policy import SUITE_DEFAULT


@dataclass(frozen=True)
class Registration:
    """Who is entered into a pool: name, employer (what avoidance looks at), title, specialties,
    and the `sub` of their token, to show them their cases."""

    name: str
    employer: str
    title: str
    specialties: tuple[str, ...]
    subject: str | None = None


@dataclass(eq=False)
class Expert:
    """专家库中的一名专家."""

    id: str
    name: str
    employer: str
    title: str
    specialties: list[str]
    status: ExpertStatus
    status_reason: str
    created_at: dt.datetime
    pool: str  # the 专家库 registered in; status and blacklisting hold in this pool only
    subject: str | None = None  # the `sub` of the expert's token, to show them their cases

    @classmethod
    def register(
        cls, entry: Registration, *, pool: str, at: dt.datetime, holder: Expert | None = None
    ) -> Expert:
        """A new active entry in `pool`; refused when another entry of the pool has the login."""
        if entry.subject and holder is not None:
            raise subject_taken(pool, entry.subject)
        return cls(
            id=uuid.uuid4().hex,
            name=entry.name,
            employer=entry.employer,
            title=entry.title,
            specialties=sorted(set(entry.specialties)),
            status=ExpertStatus.ACTIVE,
            status_reason="",
            created_at=at,
            pool=pool,
            subject=entry.subject,
        )

    def candidate(self) -> Candidate:
        return Candidate(self.id, self.employer, frozenset(self.specialties), self.status)

    def set_status(self, status: ExpertStatus, reason: str) -> None:
        if status is ExpertStatus.BLACKLISTED and not reason.strip():
            raise ReviewError(f"列入失信名单须写明原因（{SUITE_DEFAULT}）")
        self.status, self.status_reason = status, reason


def subject_taken(pool: str, subject: str | None) -> InvalidCaseState:
    return InvalidCaseState(f"登录身份 {subject} 已对应专家库 {pool} 中的另一名专家")


def in_pools(expert: Expert | None, expert_id: str, pools: frozenset[str] | None) -> Expert:
    """The expert if registered in one of `pools` (None: every pool); another pool's is not found."""
    if expert is None or (pools is not None and expert.pool not in pools):
        raise ExpertNotFound(f"专家 {expert_id} 不存在")
    return expert


def candidates(experts: Sequence[Expert]) -> list[Candidate]:
    return [e.candidate() for e in experts]
