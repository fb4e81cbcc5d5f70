"""Chinese labels of acceptance's codes: project statuses and time limits."""

from __future__ import annotations

from services.acceptance.domain import Status
from services.acceptance.domain.deadlines import DeadlineKind
from shared.labels import register

register(
    Status,
    {
        Status.BUILDING: "建设中",
        Status.COMPLETED: "已竣工，待申请终验",
        Status.APPLIED: "已申请终验，待受理",
        Status.UNDER_ACCEPTANCE: "验收中",
        Status.RECTIFYING: "验收未通过，整改中",
        Status.ACCEPTED: "已通过终验",
        Status.CLOSED: "已关闭（不予批复、撤回或终止）",
    },
)
register(
    DeadlineKind,
    {
        DeadlineKind.INITIAL_ACCEPTANCE: "初步验收期限",
        DeadlineKind.APPLICATION_OPENS: "可申请终验之日",
        DeadlineKind.APPLICATION: "申请终验期限",
        DeadlineKind.TRIAL_RUN_LIMIT: "试运行期限",
        DeadlineKind.ACCEPTANCE_REPORT: "报送验收报告期限",
        DeadlineKind.SELF_EVALUATION: "年度绩效自评期限",
        DeadlineKind.POST_EVALUATION_OPENS: "可开展后评价之日",
        DeadlineKind.POST_EVALUATION: "后评价期限",
    },
)
