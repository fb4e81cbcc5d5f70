"""What a payment is for, and where its request stands."""

from __future__ import annotations

from enum import StrEnum


class PaymentKind(StrEnum):
    PREPARATORY = "preparatory"  # 项目论证等前期工作费用 (zhonglou §13)
    CONSTRUCTION = "construction"  # 建设资金（按批复下达）
    MILESTONE = "milestone"  # 合同付款节点
    FINAL = "final"  # 尾款（验收后）
    OM = "om"  # 运维经费


class DisbursementStatus(StrEnum):
    HELD = "held"  # 待拨付：有未开启的前置条件
    RELEASED = "released"  # 已拨付（运维经费：已核准）
    REJECTED = "rejected"  # 不予拨付（项目终止；运维经费：不予核准）


# The kinds paid from the construction budget: together they stay within the approved total.
BUDGET_KINDS = (PaymentKind.PREPARATORY, PaymentKind.CONSTRUCTION, PaymentKind.MILESTONE, PaymentKind.FINAL)
