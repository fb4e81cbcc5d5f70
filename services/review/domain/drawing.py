"""抽选专家组 — a random panel that an auditor can draw again and get the same (the draw is written
in shexian §7 only; elsewhere it is the suite's default, see rules.draw_method).

The draw is a pure function of the recorded seed, the candidate list and the case's
avoidance facts: each eligible expert is ranked by SHA-256(seed ‖ expert id), the required
specialties are filled first in rank order, then the remaining seats. Anyone holding the
seed and the candidate list can recompute the ranking with any SHA-256 tool.

Avoidance (回避) is not written in the regulations but every real panel system has it:
nobody employed by the declaring agency, the contractor, the 监理 or a bidder; nobody
blacklisted (lhasa §22, xunyang §25) or suspended; nobody who declined this case.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from services.review.domain.errors import InsufficientPool
from services.review.domain.stored import Stored


class ExpertStatus(StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"  # 暂停
    BLACKLISTED = "blacklisted"  # 列入失信名单


@dataclass(frozen=True)
class Candidate(Stored):
    """An expert as the draw sees them (and as a case records its candidate list)."""

    id: str
    employer: str
    specialties: frozenset[str]
    status: ExpertStatus = ExpertStatus.ACTIVE

    def stored(self) -> dict[str, Any]:
        specialties = sorted(self.specialties)
        return {
            "id": self.id,
            "employer": self.employer,
            "specialties": specialties,
            "status": self.status.value,
        }

    @classmethod
    def from_stored(cls, stored: Mapping[str, Any]) -> Candidate:
        return cls(
            stored["id"], stored["employer"], frozenset(stored["specialties"]), ExpertStatus(stored["status"])
        )


@dataclass(frozen=True)
class Avoidance:
    """What a case asks the draw to avoid."""

    organisations: frozenset[str] = frozenset()  # declaring agency, contractor, 监理, bidders
    declined: frozenset[str] = frozenset()  # experts who declined this case
    seated: frozenset[str] = frozenset()  # experts already on the panel (for replacements)

    def excludes(self, expert: Candidate) -> str | None:
        """Why the expert may not sit on this panel, or None."""
        if expert.status is not ExpertStatus.ACTIVE:
            return f"status:{expert.status.value}"
        if expert.employer in self.organisations:
            return "conflict_of_interest"
        if expert.id in self.declined:
            return "declined"
        if expert.id in self.seated:
            return "seated"
        return None


@dataclass(frozen=True)
class PanelSpec:
    """How many experts, and how many of each specialty at least (from the policy pack)."""

    size: int
    specialties: Mapping[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.size < 1 or sum(self.specialties.values()) > self.size:
            raise ValueError("a panel needs at least one seat and room for every required specialty")


@dataclass(frozen=True)
class Seat:
    expert_id: str
    specialty: str | None  # the required specialty this seat fills, if any
    rank: int  # position in the seeded ranking, 1-based


@dataclass(frozen=True)
class Draw:
    seed: str
    candidates: tuple[str, ...]  # every candidate considered, in id order (recorded for audit)
    seats: tuple[Seat, ...]


def new_seed() -> str:
    return secrets.token_hex(16)


def ranking(seed: str, ids: Iterable[str]) -> list[str]:
    """The seeded order: by SHA-256 of `seed:expert_id`, ties (impossible in practice) by id."""
    return sorted(ids, key=lambda i: (hashlib.sha256(f"{seed}:{i}".encode()).hexdigest(), i))


def _match(slots: Sequence[str], order: Sequence[str], eligible: Mapping[str, Candidate]) -> dict[int, str]:
    """Assign experts to specialty slots, preferring higher ranks (Kuhn's augmenting paths).

    A greedy fill could give a two-specialty expert to the first slot and leave the second
    empty although another assignment seats both; this finds one whenever it exists.
    """
    holder: dict[str, int] = {}  # expert -> slot

    def assign(slot: int, seen: set[str]) -> bool:
        for expert_id in order:
            if slots[slot] in eligible[expert_id].specialties and expert_id not in seen:
                seen.add(expert_id)
                if expert_id not in holder or assign(holder[expert_id], seen):
                    holder[expert_id] = slot
                    return True
        return False

    for slot in range(len(slots)):
        assign(slot, set())
    return {slot: expert_id for expert_id, slot in holder.items()}


def draw(seed: str, pool: Sequence[Candidate], spec: PanelSpec, avoid: Avoidance) -> Draw:
    """Seat `spec.size` experts, the required specialties first; refuse rather than seat fewer."""
    eligible = {c.id: c for c in pool if avoid.excludes(c) is None}
    order = ranking(seed, eligible)
    rank_of = {expert_id: n for n, expert_id in enumerate(order, start=1)}
    slots = [name for name, count in sorted(spec.specialties.items()) for _ in range(count)]
    matched = _match(slots, order, eligible)
    shortfalls = []
    for name, count in sorted(spec.specialties.items()):
        seated = sum(1 for slot, _ in matched.items() if slots[slot] == name)
        if seated < count:
            fitting = sum(1 for c in eligible.values() if name in c.specialties)
            shortfalls.append(f"需要{name}专业专家 {count} 名，符合回避要求的仅 {fitting} 名可用")
    seats = [Seat(expert_id, slots[slot], rank_of[expert_id]) for slot, expert_id in sorted(matched.items())]
    taken = set(matched.values())
    rest = [i for i in order if i not in taken][: spec.size - len(seats)]
    seats.extend(Seat(i, None, rank_of[i]) for i in rest)
    if len(seats) < spec.size:
        shortfalls.append(f"专家组需 {spec.size} 人，符合回避要求的专家仅 {len(eligible)} 名")
    if shortfalls:
        raise InsufficientPool(shortfalls)
    return Draw(seed=seed, candidates=tuple(sorted(c.id for c in pool)), seats=tuple(seats))


def replace(seed: str, pool: Sequence[Candidate], avoid: Avoidance, leaving: Seat) -> Seat:
    """补抽: one expert for a seat whose expert declined, like for like, by the same ranking.

    `avoid.declined` must include the leaving expert and `avoid.seated` the others.
    """
    spec = PanelSpec(size=1, specialties={leaving.specialty: 1} if leaving.specialty else {})
    [seat] = draw(seed, pool, spec, avoid).seats
    return seat
