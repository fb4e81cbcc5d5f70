"""Chinese labels of procurement's codes: project statuses and contract changes."""

from __future__ import annotations

from services.procurement.domain import ChangeState, Status
from shared.labels import register

register(
    Status,
    {
        Status.DECLARED: "已申报，未批复",
        Status.APPROVED: "已批复",
        Status.CONTRACTED: "已签订合同",
        Status.UNDER_CONSTRUCTION: "建设中",
        Status.COMPLETED: "已竣工",
        Status.CLOSED: "已关闭（不予批复、撤回或终止）",
    },
)
register(
    ChangeState,
    {
        ChangeState.FILED: "已备案",
        ChangeState.PENDING: "待审批",
        ChangeState.APPROVED: "已批准",
        ChangeState.REJECTED: "不予批准",
    },
)
