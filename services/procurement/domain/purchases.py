"""计划外采购备案: purchases a department makes outside the annual plan and files afterwards.

lhasa §10 第二款: 办公区域网络改造、安防和办公设备采购等 are not declared in the annual plan; within a
month of completing the procurement the department files their materials with the authority. The
suite sees such a purchase once the department records it (the pack's categories name what it is):
the filing limit runs from the day the procurement was completed (calendar months; a limit ending
on a rest day ends on the next working day), a late filing is kept and marked with its article,
and a purchase still unfiled past its limit is evented once, as a project's missed deadline is.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.procurement.domain.errors import InvalidState, ProcurementError
from services.procurement.domain.prerequisites import not_after
from services.procurement.domain.records import Filing, new_id
from shared.contracts import Event
from shared.contracts.envelope import Citation
from shared.contracts.procurement import DeadlineMissed, PurchaseFiled
from shared.policy import PolicyRegistry, citations
from shared.workdays import WorkingCalendar, months_after, today_in_shanghai

RULE = "procurement.unplanned_purchase_filing"


@dataclass(frozen=True)
class PurchaseTerms:
    """What the department says of the purchase: where, what, for how much, from whom, completed when."""

    jurisdiction: str
    agency: str
    title: str
    category: str
    amount_fen: int
    supplier: str
    credit_code: str
    procured_on: dt.date  # 采购完成日期


@dataclass(eq=False)
class Purchase:
    """一项计划外采购 and its filing (备案)."""

    id: str
    jurisdiction: str
    agency: str
    title: str
    category: str
    amount_fen: int
    supplier: str
    credit_code: str
    procured_on: dt.date
    filing_due_on: dt.date
    recorded_by: str
    recorded_at: dt.datetime
    materials: str | None = None
    filed_on: dt.date | None = None
    filed_by: str | None = None
    late: bool = False
    notes: list[Citation] = field(default_factory=list)
    missed_noticed: bool = False  # the missed limit has been evented
    idempotency_key: str | None = None
    events: list[Event] = field(default_factory=list)

    def same_terms(self, terms: PurchaseTerms) -> bool:
        """A retry with the same key records the same purchase."""
        return (
            self.jurisdiction == terms.jurisdiction
            and self.category == terms.category
            and self.credit_code == terms.credit_code
            and self.amount_fen == terms.amount_fen
            and self.procured_on == terms.procured_on
        )

    def state(self, today: dt.date) -> str:
        """filed, running (the limit still runs), or missed."""
        if self.filed_on is not None:
            return "filed"
        return "missed" if today > self.filing_due_on else "running"


def categories(policy: PolicyRegistry, jurisdiction: str) -> dict[str, str]:
    """The kinds of purchase the pack files outside the plan (code → the article's words); none
    where the regulation says nothing of them."""
    rule = policy.rule(jurisdiction, RULE)
    return {str(k): str(v) for k, v in (rule.params.get("categories") or {}).items()} if rule.applies else {}


def record_purchase(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    terms: PurchaseTerms,
    materials: str | None,
    filing: Filing,
) -> Purchase:
    """A purchase outside the plan, recorded when its procurement is complete, and filed at once
    when its materials come with it; its filing limit counted from the completion."""
    j = terms.jurisdiction
    rule = policy.rule(j, RULE)
    kinds = categories(policy, j)
    if not kinds:
        raise ProcurementError(f"本辖区办法未规定计划外采购备案：{rule.summary}")
    if terms.category not in kinds:
        listed = "、".join(f"{code}（{label}）" for code, label in kinds.items())
        raise ProcurementError(f"采购类别 {terms.category} 不在办法所列范围：{listed}")
    not_after(terms.procured_on, today_in_shanghai(filing.at), "采购完成日期")
    due = calendar.last_day(months_after(terms.procured_on, int(rule.param("months"))))
    purchase = Purchase(
        id=new_id(),
        jurisdiction=j,
        agency=terms.agency,
        title=terms.title,
        category=terms.category,
        amount_fen=terms.amount_fen,
        supplier=terms.supplier,
        credit_code=terms.credit_code,
        procured_on=terms.procured_on,
        filing_due_on=due,
        recorded_by=filing.by,
        recorded_at=filing.at,
        idempotency_key=filing.idempotency_key,
    )
    if materials:
        file_purchase(policy, purchase, materials, filing)
    return purchase


def file_purchase(policy: PolicyRegistry, purchase: Purchase, materials: str, filing: Filing) -> None:
    """备案: the materials filed; after the limit the filing is kept and marked with the article."""
    if purchase.filed_on is not None:
        raise InvalidState(f"该采购已于 {purchase.filed_on.isoformat()} 备案")
    j = purchase.jurisdiction
    filed_on = today_in_shanghai(filing.at)
    notes = []
    if filed_on > purchase.filing_due_on:
        notes.append(
            policy.refusal(
                j,
                RULE,
                "purchase_filed_late",
                f"采购于 {purchase.procured_on.isoformat()} 完成，"
                f"应在 {purchase.filing_due_on.isoformat()} 前将相关材料报送备案，"
                f"实际 {filed_on.isoformat()} 报送，已逾期",
            )
        )
    purchase.materials, purchase.filed_on, purchase.filed_by = materials, filed_on, filing.by
    purchase.late, purchase.notes = bool(notes), list(citations(notes))
    purchase.events.append(
        PurchaseFiled(
            project_id=purchase.id,
            jurisdiction=j,
            agency=purchase.agency,
            title=purchase.title,
            category=purchase.category,
            amount_fen=purchase.amount_fen,
            supplier=purchase.supplier,
            credit_code=purchase.credit_code,
            procured_on=purchase.procured_on,
            filed_on=filed_on,
            filing_due_on=purchase.filing_due_on,
            late=purchase.late,
            notes=tuple(purchase.notes),
            articles=policy.rule(j, RULE).articles,
        )
    )


def filing_message(policy: PolicyRegistry, purchase: Purchase) -> str:
    label = categories(policy, purchase.jurisdiction).get(purchase.category, purchase.category)
    cited = "、".join(policy.rule(purchase.jurisdiction, RULE).articles)
    return (
        f"{label}「{purchase.title}」于 {purchase.procured_on.isoformat()} 采购完成，未按期将相关材料报送备案"
        f"（期限 {purchase.filing_due_on.isoformat()}）（{cited}）"
    )


def note_missed_filing(policy: PolicyRegistry, purchase: Purchase, today: dt.date) -> int:
    """Event a purchase still unfiled past its limit, once; returns how many fired (0 or 1)."""
    if purchase.missed_noticed or purchase.state(today) != "missed":
        return 0
    purchase.missed_noticed = True
    purchase.events.append(
        DeadlineMissed(
            project_id=purchase.id,
            jurisdiction=purchase.jurisdiction,
            agency=purchase.agency,
            deadline="purchase_filing",
            due_on=purchase.filing_due_on,
            message=filing_message(policy, purchase),
            articles=policy.rule(purchase.jurisdiction, RULE).articles,
        )
    )
    return 1
