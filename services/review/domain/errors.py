"""Review's refusals: one hierarchy under shared.errors.DomainError; `code` is stable for clients."""

from __future__ import annotations

from collections.abc import Sequence

from shared.errors import DomainError


class ReviewError(DomainError):
    """Base of review's refusals; `code` is stable, the message is for people."""

    code = "review_error"
    title = "评审操作被拒绝"


class ExpertNotFound(ReviewError):
    code = "expert_not_found"
    title = "专家不存在"


class CaseNotFound(ReviewError):
    code = "case_not_found"
    title = "评审案件不存在"


class InvalidCaseState(ReviewError):
    code = "invalid_case_state"
    title = "评审案件当前状态不允许此操作"


class ThirdPartyReviewMissing(InvalidCaseState):
    code = "third_party_review_missing"
    title = "尚未附第三方专业审查意见"


class NotOnPanel(ReviewError):
    code = "not_on_panel"
    title = "您不是本案专家组成员"


class InsufficientPool(ReviewError):
    """The pool cannot seat this panel: says what is missing, never draws a short panel."""

    code = "insufficient_pool"
    title = "专家库可抽选人数不足"

    def __init__(self, shortfalls: Sequence[str]) -> None:
        super().__init__("；".join(shortfalls))
        self.shortfalls = tuple(shortfalls)
