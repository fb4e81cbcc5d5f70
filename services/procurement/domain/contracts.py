"""Contracts (合同备案): construction (承建) or supervision (监理), their milestones and filing limit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from services.procurement.domain.errors import ProcurementError
from services.procurement.domain.milestones import PaymentMilestone
from shared.contracts.envelope import Citation
from shared.policy import PolicyRegistry, Reason
from shared.workdays import WorkingCalendar, dated


class Role(StrEnum):
    CONSTRUCTION = "construction"  # 承建
    SUPERVISION = "supervision"  # 监理


@dataclass(frozen=True)
class ContractTerms:
    role: Role
    counterparty: str
    credit_code: str
    amount_fen: int
    signed_on: dt.date
    starts_on: dt.date | None
    ends_on: dt.date | None
    milestones: Sequence[tuple[str, str, Decimal]]  # name, stage, share in percent
    ip_to_government: bool

    def signed_by(self, filed_on: dt.date) -> None:
        if self.signed_on > filed_on:
            raise ProcurementError("签订日期不能晚于备案当日")


@dataclass(eq=False)
class Contract:
    """备案的合同: construction (承建) or supervision (监理), with its payment milestones."""

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    role: Role
    counterparty: str
    credit_code: str
    amount_fen: int
    signed_on: dt.date
    starts_on: dt.date | None
    ends_on: dt.date | None
    milestones: list[PaymentMilestone]
    ip_to_government: bool
    filed_on: dt.date
    filing_due_on: dt.date | None
    late: bool
    filed_by: str
    filed_at: dt.datetime
    notes: list[Citation] = field(default_factory=list)
    idempotency_key: str | None = None

    def same_terms(self, terms: ContractTerms) -> bool:
        """A retry with the same key files the same contract."""
        return (
            self.role is terms.role
            and self.credit_code == terms.credit_code
            and self.amount_fen == terms.amount_fen
            and self.signed_on == terms.signed_on
        )


def filing_due(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, signed_on: dt.date
) -> dt.date | None:
    """The last day to file a contract, counted in working days from signing; None where no limit."""
    rule = policy.rule(jurisdiction, "procurement.contract_filing")
    if not rule.applies or "working_days" not in rule.params:
        return None
    return calendar.add_working_days(signed_on, int(rule.params["working_days"])).date


def late_filing(
    policy: PolicyRegistry, jurisdiction: str, signed_on: dt.date, due: dt.date | None, filed_on: dt.date
) -> list[Reason]:
    """A filing after its limit is kept, and marked with the article (bayingolin §18)."""
    if due is None or filed_on <= due:
        return []
    return [
        policy.refusal(
            jurisdiction,
            "procurement.contract_filing",
            "contract_filed_late",
            f"合同于 {signed_on.isoformat()} 签订，应在 {dated(due)} 前报送备案，"
            f"实际 {filed_on.isoformat()} 报送，已逾期",
        )
    ]


def ip_clause_missing(policy: PolicyRegistry, jurisdiction: str, terms: ContractTerms) -> list[Reason]:
    """shexian §40: a construction contract vests the project's results in the government."""
    ip = policy.rule(jurisdiction, "procurement.ip_to_government")
    if terms.role is not Role.CONSTRUCTION or not ip.applies or terms.ip_to_government:
        return []
    return [
        policy.refusal(
            jurisdiction,
            "procurement.ip_to_government",
            "ip_clause_missing",
            "合同未明确项目成果（设计文件、源代码、测试文档、数据资源、数据接口等）及相关知识产权归政府所有",
        )
    ]
