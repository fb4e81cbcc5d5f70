"""Parameters of the review.* rules (专家库、评审)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from shared.policy.params.common import Params


class Blacklist(Params):
    covers: tuple[Literal["experts", "third_parties", "enterprises"], ...] | None = None


class Conclusion(Params):
    method: Literal["majority"] | None = None


class ExpertPool(Params):
    pool: str | None = None


class ReviewMethod(Params):
    third_party_review_stages: tuple[str, ...] | None = None
    # When the assessment must be on the case: before the panel is drawn (shexian §21, the
    # default), or before the experts give their opinions (bayingolin §9: 辅助专家开展评审工作).
    third_party_review_before: Literal["draw", "opinion"] | None = None


class PanelSize(Params):
    size: int = Field(ge=1)
    specialties: dict[str, int] = Field(default_factory=dict)


class Panel(Params):
    default: PanelSize | None = None
    stages: dict[str, PanelSize] | None = None
