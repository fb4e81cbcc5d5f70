"""Where a project stands, from procurement's side."""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    DECLARED = "declared"  # 已申报，未批复
    APPROVED = "approved"  # 已批复（或上级资金项目已报备）
    CONTRACTED = "contracted"  # 已签订施工合同
    UNDER_CONSTRUCTION = "under_construction"  # 已开工
    COMPLETED = "completed"  # 已竣工
    CLOSED = "closed"  # 不予批复、撤回或终止
