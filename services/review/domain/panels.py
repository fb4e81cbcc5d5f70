"""抽选专家组 for a case, 补抽 when an expert declines, and the auditor's redraw.

抽选 is written in shexian §7 only; elsewhere the random draw is the suite's default, and so is
回避 everywhere (rules.draw_method says which, on every PanelDrawn).

Every draw is from the pool of the case's jurisdiction only; the seed and the candidate list are
recorded on the case so that anyone can draw the first panel again and get the same.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence

from services.review.domain import drawing
from services.review.domain.cases import ReviewCase
from services.review.domain.drawing import Avoidance, Seat
from services.review.domain.errors import InsufficientPool, InvalidCaseState
from services.review.domain.experts import Expert, candidates
from services.review.domain.rules import draw_method, panel_articles, panel_spec, third_party_review
from shared.policy import PolicyRegistry


def draw_panel(case: ReviewCase, pool: Sequence[Expert], policy: PolicyRegistry, seed: str | None) -> None:
    """Seat the panel by a fresh seed (or the one given); where the pack has a third party review
    the materials first (shexian §21), refused until the assessment is on the case, so the experts
    review with it in hand."""
    spec = panel_spec(policy, case.jurisdiction, case.stage)
    drawn = drawing.draw(seed or drawing.new_seed(), candidates(pool), spec, case.avoidance())
    case.seat_panel(
        drawn,
        candidates(pool),
        panel_articles(policy, case.jurisdiction),
        third_party=third_party_review(policy, case.jurisdiction, case.stage),
        method=draw_method(policy, case.jurisdiction),
    )


def decline(
    case: ReviewCase, expert_ids: Collection[str], pool: Sequence[Expert], policy: PolicyRegistry
) -> None:
    """An expert declines (回避或无法参加): a replacement is drawn by the case's own seed.

    Like for like when the leaving expert's specialty would otherwise fall short; when the
    experts who stay still cover it, any eligible expert may take the seat.
    """
    expert_id = case.seated_among(expert_ids)
    leaving = case.leaving(expert_id)
    if leaving.specialty is not None and _still_covered(case, leaving, pool, policy):
        leaving = Seat(leaving.expert_id, None, leaving.rank)
    avoid = case.avoidance()
    avoid = Avoidance(
        organisations=avoid.organisations,
        declined=avoid.declined | {expert_id},
        seated=avoid.seated - {expert_id},
    )
    assert case.seed is not None
    case.replace(leaving, drawing.replace(case.seed, candidates(pool), avoid, leaving))


def _still_covered(case: ReviewCase, leaving: Seat, pool: Sequence[Expert], policy: PolicyRegistry) -> bool:
    """Whether the experts who stay hold the pack's number of the leaving seat's specialty."""
    spec = panel_spec(policy, case.jurisdiction, case.stage)
    specialties = {e.id: set(e.specialties) for e in pool}
    staying = [s.expert_id for s in case.seated() if s.expert_id != leaving.expert_id]
    covered = sum(leaving.specialty in specialties.get(i, set()) for i in staying)
    return covered >= spec.specialties.get(leaving.specialty or "", 0)


def redraw_matches(case: ReviewCase, policy: PolicyRegistry) -> bool:
    """An auditor's check: the recorded seed and candidates give the recorded first panel."""
    if case.seed is None:
        raise InvalidCaseState("本案尚未抽选专家组")
    first_avoid = Avoidance(organisations=frozenset([case.agency, *case.parties]))
    spec = panel_spec(policy, case.jurisdiction, case.stage)
    try:
        drawn = drawing.draw(case.seed, list(case.candidates), spec, first_avoid)
    except InsufficientPool:
        return False
    original = case.seats[: spec.size]  # replacements are appended after the first draw
    recorded = {(s.expert_id, s.specialty, s.rank) for s in original}
    return {(s.expert_id, s.specialty, s.rank) for s in drawn.seats} == recorded
