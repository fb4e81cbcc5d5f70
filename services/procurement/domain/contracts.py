"""Contracts (合同备案): design (设计), construction (承建) or supervision (监理), their milestones,
filing limit, and the checks made of their terms and firm at filing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from services.procurement.domain.errors import ProcurementError
from services.procurement.domain.milestones import PaymentMilestone
from shared.contracts.envelope import Citation
from shared.contracts.procurement import ContractFiled, Milestone
from shared.policy import PolicyRegistry, Reason
from shared.workdays import WorkingCalendar, dated


class Role(StrEnum):
    DESIGN = "design"  # 设计（专业咨询设计机构）
    CONSTRUCTION = "construction"  # 承建（实施）
    SUPERVISION = "supervision"  # 监理


ROLE_LABELS = {Role.DESIGN: "设计", Role.CONSTRUCTION: "实施（承建）", Role.SUPERVISION: "监理"}
#: The roles one firm may not hold both of on one project, each to the other.
SEPARATE = "procurement.design_implementation_separate"
KEPT_APART = {Role.DESIGN: Role.CONSTRUCTION, Role.CONSTRUCTION: Role.DESIGN}


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
    """备案的合同: design (设计), construction (承建) or supervision (监理), with its payment milestones."""

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

    def filed(self, articles: Sequence[str]) -> ContractFiled:
        """The filing as funding pays against it: the contract with its milestones."""
        return ContractFiled(
            project_id=self.project_id,
            jurisdiction=self.jurisdiction,
            agency=self.agency,
            contract_id=self.id,
            role=self.role.value,
            counterparty=self.counterparty,
            credit_code=self.credit_code,
            amount_fen=self.amount_fen,
            signed_on=self.signed_on,
            filed_on=self.filed_on,
            filing_due_on=self.filing_due_on,
            late=self.late,
            ip_to_government=self.ip_to_government,
            milestones=tuple(Milestone(**m.stored()) for m in self.milestones),
            notes=tuple(self.notes),
            articles=tuple(articles),
        )

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
    """shexian §40: a contract whose work is the project's results — its construction, and its design
    (设计文件 are named among them) — vests them in the government."""
    ip = policy.rule(jurisdiction, "procurement.ip_to_government")
    if terms.role is Role.SUPERVISION or not ip.applies or terms.ip_to_government:
        return []
    return [
        policy.refusal(
            jurisdiction,
            "procurement.ip_to_government",
            "ip_clause_missing",
            "合同未明确项目成果（设计文件、源代码、测试文档、数据资源、数据接口等）及相关知识产权归政府所有",
        )
    ]


def same_firm_designs_and_builds(
    policy: PolicyRegistry, jurisdiction: str, terms: ContractTerms, filed: Sequence[Contract]
) -> list[Reason]:
    """shexian §18: design and implementation are kept apart — the firm (by its 统一社会信用代码)
    holding one of them on the project may not be filed for the other."""
    other = KEPT_APART.get(terms.role)
    if other is None or not policy.rule(jurisdiction, SEPARATE).applies:
        return []
    held = [c for c in filed if c.role is other and c.credit_code == terms.credit_code]
    if not held:
        return []
    detail = (
        f"{terms.counterparty}（统一社会信用代码 {terms.credit_code}）已承担本项目的{ROLE_LABELS[other]}"
        f"（合同 {held[0].id}，{held[0].signed_on.isoformat()} 签订），不得再承担{ROLE_LABELS[terms.role]}："
        "项目设计与实施分开进行"
    )
    return [policy.refusal(jurisdiction, SEPARATE, "design_and_implementation_same_firm", detail)]
