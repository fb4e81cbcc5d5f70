"""Chinese labels of review's codes: case statuses, experts, seats and verdicts."""

from __future__ import annotations

from services.review.domain import CaseStatus, ExpertStatus, SeatState, Verdict
from shared.labels import register

register(
    CaseStatus,
    {
        CaseStatus.OPEN: "已立案，待抽选专家",
        CaseStatus.PANEL_DRAWN: "专家组已抽选，评审中",
        CaseStatus.CONCLUDED: "已出结论",
        CaseStatus.REVISING: "修改后再审，等待修改材料",
        CaseStatus.CANCELLED: "已撤销",
    },
)
register(
    ExpertStatus,
    {ExpertStatus.ACTIVE: "在库", ExpertStatus.SUSPENDED: "暂停", ExpertStatus.BLACKLISTED: "列入失信名单"},
)
register(SeatState, {SeatState.SEATED: "在席", SeatState.DECLINED: "谢绝或回避"})
register(Verdict, {Verdict.PASS: "通过", Verdict.REVISE: "修改后再审", Verdict.FAIL: "不通过"})
