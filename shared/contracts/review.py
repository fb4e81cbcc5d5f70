"""Events produced by the review service (专家评审)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.deadlines import PROVISIONAL_NOTE, DeadlineMoved
from shared.contracts.envelope import Event

ReviewStage = Literal[
    "declaration",  # 申报评审
    "om_declaration",  # 运维类项目申报评审 (bayingolin §10, apart from §9's 建设和服务类 review)
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
    reference: str | None = Field(default=None, description="评审对象：变更申请或终验申请的编号")
    scores: tuple[int, ...] = Field(default=(), description="各专家评分")
    round: int = Field(default=1, description="第几次评审（修改后再审为第2次…）")
    resubmission_required: bool = Field(default=False, description="多次未通过，须重新编制材料 (lhasa §11)")
    articles: tuple[str, ...] = ()
    method: str = Field(
        default="",
        description="结论的议决方式及其依据：办法（或主管部门按办法）设定的注明条款，本系统默认的多数意见注明“非办法条文”",
    )

    summary: ClassVar[str] = "评审已出结论"


class ReviewCaseOpened(Event):
    """评审立案 — a review case was opened for a project at a stage."""

    type: Literal["govit.review.case_opened.v1"] = "govit.review.case_opened.v1"
    case_id: str
    stage: ReviewStage
    reference: str | None = Field(default=None, description="评审对象：变更申请或终验申请的编号")
    due_on: date | None = Field(default=None, description="初步评审期限（工作日计算）")
    due_on_provisional: bool = Field(default=False, description=PROVISIONAL_NOTE)
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "评审已立案"


class PanelDrawn(Event):
    """抽选专家组 — the panel was drawn; the seed and candidates are kept for a redraw check."""

    type: Literal["govit.review.panel_drawn.v1"] = "govit.review.panel_drawn.v1"
    case_id: str
    seed: str
    panel_size: int
    candidate_count: int
    articles: tuple[str, ...] = ()
    method: str = Field(
        default="",
        description="组成方式及其依据：办法规定的抽选注明条款，本系统默认的随机抽选与回避注明“非办法条文”",
    )

    summary: ClassVar[str] = "专家组已抽选"


class ExpertReplaced(Event):
    """补抽 — an expert declined and another was drawn by the same seeded ranking."""

    type: Literal["govit.review.expert_replaced.v1"] = "govit.review.expert_replaced.v1"
    case_id: str
    specialty: str | None = None

    summary: ClassVar[str] = "专家已补抽"


class ReviewOverdue(Event):
    """评审逾期 — a time limit of the case passed (lhasa §11)."""

    type: Literal["govit.review.case_overdue.v1"] = "govit.review.case_overdue.v1"
    case_id: str
    clock: str = Field(description="first_review, pass_report, fail_opinion, revision, second_review")
    due_on: date
    due_on_provisional: bool = Field(default=False, description=PROVISIONAL_NOTE)
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "评审已逾期"


class ReviewDeadlineMoved(DeadlineMoved):
    """评审期限变动 — a newly loaded holiday notice moved a running time limit of a case (lhasa §11);
    `deadline` is the time limit (first_review, pass_report, fail_opinion, revision, second_review),
    `reference` the case."""

    type: Literal["govit.review.deadline_moved.v1"] = "govit.review.deadline_moved.v1"

    summary: ClassVar[str] = "评审期限已变动"
