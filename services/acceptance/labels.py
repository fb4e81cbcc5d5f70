"""Chinese labels of acceptance's codes: project statuses."""

from __future__ import annotations

from services.acceptance.domain import Status
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
