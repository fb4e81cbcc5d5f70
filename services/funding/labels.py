"""Chinese labels of funding's codes: disbursement statuses, payment kinds, gates, reclaims."""

from __future__ import annotations

from enum import StrEnum

from services.funding.domain import NAMES, DisbursementStatus, Gate, PaymentKind
from shared.labels import register


class ReclaimStatus(StrEnum):
    """收回结余资金: started, completed once the money is back."""

    STARTED = "started"
    COMPLETED = "completed"


register(
    DisbursementStatus,
    {
        DisbursementStatus.HELD: "待拨付（有未满足的前置条件）",
        DisbursementStatus.RELEASED: "已拨付",
        DisbursementStatus.REJECTED: "不予拨付",
    },
)
register(
    PaymentKind,
    {
        PaymentKind.PREPARATORY: "前期工作费用",
        PaymentKind.CONSTRUCTION: "建设资金",
        PaymentKind.MILESTONE: "合同付款节点",
        PaymentKind.FINAL: "尾款",
        PaymentKind.OM: "运维经费",
    },
)
register(Gate, NAMES)
register(ReclaimStatus, {ReclaimStatus.STARTED: "收回中", ReclaimStatus.COMPLETED: "已收回"})

#: A gate's state in the gate report (its `open`).
OPEN_LABELS = {True: "已满足", False: "未满足"}
