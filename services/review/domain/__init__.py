"""Review's domain: the expert pool (专家库), review cases with their panels, opinions and
conclusions, and the rules asked of the pack. Pure: no framework, no database, no bus.

- errors: the refusals, under ReviewError
- drawing: the reproducible draw with avoidance (shexian §7)
- rules: panel composition, conclusion, time limits, repeated failure, third-party review
- pools: which pool a jurisdiction draws from, and who sees which cases
- experts: an expert in a pool; records: seats, opinions, reports, conclusions, submissions
- cases: the review case; opening, panels, conclusions: the decisions that ask the pack
"""

from services.review.domain.cases import CLOSED, WRITTEN_RESULT_CLOCKS, CaseStatus, ReviewCase
from services.review.domain.drawing import (
    Avoidance,
    Candidate,
    Draw,
    ExpertStatus,
    PanelSpec,
    Seat,
    draw,
    new_seed,
    ranking,
    replace,
)
from services.review.domain.errors import (
    CaseNotFound,
    ExpertNotFound,
    InsufficientPool,
    InvalidCaseState,
    NotOnPanel,
    ReviewError,
    ThirdPartyReviewMissing,
)
from services.review.domain.experts import Expert, Registration
from services.review.domain.pools import case_scope, pool_of, pools_of
from services.review.domain.records import Conclusion, Opinion, PanelSeat, Report, SeatState, Submission
from services.review.domain.rules import (
    Clock,
    TimeLimit,
    Verdict,
    after_conclusion,
    conclude,
    due,
    must_resubmit,
    overdue_reason,
    panel_spec,
    third_party_review,
)

__all__ = [
    "CLOSED",
    "WRITTEN_RESULT_CLOCKS",
    "Avoidance",
    "Candidate",
    "CaseNotFound",
    "CaseStatus",
    "Clock",
    "Conclusion",
    "Draw",
    "Expert",
    "ExpertNotFound",
    "ExpertStatus",
    "InsufficientPool",
    "InvalidCaseState",
    "NotOnPanel",
    "Opinion",
    "PanelSeat",
    "PanelSpec",
    "Registration",
    "Report",
    "ReviewCase",
    "ReviewError",
    "Seat",
    "SeatState",
    "Submission",
    "ThirdPartyReviewMissing",
    "TimeLimit",
    "Verdict",
    "after_conclusion",
    "case_scope",
    "conclude",
    "draw",
    "due",
    "must_resubmit",
    "new_seed",
    "overdue_reason",
    "panel_spec",
    "pool_of",
    "pools_of",
    "ranking",
    "replace",
    "third_party_review",
]
