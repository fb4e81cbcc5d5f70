"""Events produced by the review service (专家评审)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.envelope import Event

ReviewStage = Literal[
    "declaration",  # 申报评审
    "demonstration",  # 论证
    "feasibility",  # 可研
    "preliminary_design",  # 初步设计
    "change",  # 变更
    "acceptance",  # 终验
    "post_evaluation",  # 后评价
]


class ReviewConcluded(Event):
    """评审结论 — a panel concluded a review case: pass, revise or fail."""

    type: Literal["govit.review.case_concluded.v1"] = "govit.review.case_concluded.v1"
    case_id: str
    stage: ReviewStage
    verdict: Literal["pass", "revise", "fail"]
    scores: tuple[int, ...] = Field(default=(), description="各专家评分")
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "评审已出结论"
