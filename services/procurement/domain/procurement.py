"""Procurement's decisions: the requirements and their review, the tender, the contract filing."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.procurement.domain.contracts import (
    Contract,
    ContractTerms,
    Role,
    filing_due,
    ip_clause_missing,
    late_filing,
    same_firm_designs_and_builds,
)
from services.procurement.domain.errors import ProcurementError
from services.procurement.domain.firms import Firm, blacklisted
from services.procurement.domain.milestones import split_milestones
from services.procurement.domain.prerequisites import (
    not_after,
    procured_early,
    requirements_unreviewed,
    unapproved,
)
from services.procurement.domain.project import Project
from services.procurement.domain.records import Filing, Tender, new_id
from shared.policy import PolicyRegistry, citations
from shared.workdays import WorkingCalendar, today_in_shanghai

NO_PROCUREMENT = "procurement.no_procurement_before_approval"


def submit_requirements(policy: PolicyRegistry, project: Project, summary: str, filing: Filing) -> None:
    project.submit_requirements(summary, filing.by, filing.at, unapproved(policy, project, NO_PROCUREMENT))


def review_requirements(
    policy: PolicyRegistry, project: Project, approved: bool, comment: str, filing: Filing
) -> None:
    articles = policy.rule(project.jurisdiction, "procurement.requirements_review").articles
    project.review_requirements(approved, comment, filing.by, filing.at, articles)


def check_tender_dates(tender: Tender, today: dt.date) -> None:
    not_after(tender.awarded_on, today, "中标（成交）日期")
    if tender.announced_on is not None and tender.announced_on > tender.awarded_on:
        raise ProcurementError("公告日期不能晚于中标（成交）日期")


def record_tender(policy: PolicyRegistry, project: Project, tender: Tender, winner: Firm | None) -> Tender:
    """采购结果: not before approval nor the requirements review (nor dated before them), nor won by a
    firm on the 失信 list; refused with every reason at once."""
    what = "采购公告日期" if tender.announced_on is not None else "中标（成交）日期"
    refusals = [
        *unapproved(policy, project, NO_PROCUREMENT),
        *requirements_unreviewed(policy, project),
        *procured_early(policy, project, tender.started_on, what, tendering=True),
        *blacklisted(policy, winner, tender.winner_credit_code, tender.winner),
    ]
    project.record_tender(tender, refusals)
    return tender


def check_contract_terms(terms: ContractTerms, filed_on: dt.date) -> None:
    terms.signed_by(filed_on)
    split_milestones(terms.amount_fen, terms.milestones)


@dataclass(frozen=True)
class OnFile:
    """What a contract filing is judged beside: its firm on the 失信 list (None: not listed), and
    the contracts the project has filed already."""

    firm: Firm | None = None
    contracts: Sequence[Contract] = ()


def file_contract(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project: Project,
    terms: ContractTerms,
    on_file: OnFile,
    filing: Filing,
) -> Contract:
    """合同备案: refused with every reason at once; a late filing is kept and marked with its article."""
    j = project.jurisdiction
    filed_on = today_in_shanghai(filing.at)
    construction = terms.role is Role.CONSTRUCTION
    refusals = [
        *unapproved(policy, project, NO_PROCUREMENT),
        *procured_early(policy, project, terms.signed_on, "合同签订日期", tendering=construction),
        *blacklisted(policy, on_file.firm, terms.credit_code, terms.counterparty),
        *same_firm_designs_and_builds(policy, j, terms, on_file.contracts),
    ]
    if construction:
        refusals += requirements_unreviewed(policy, project)
    refusals += ip_clause_missing(policy, j, terms)
    due = filing_due(policy, calendar, j, terms.signed_on)
    notes = late_filing(policy, j, terms.signed_on, due, filed_on)
    contract = Contract(
        id=new_id(),
        project_id=project.id,
        jurisdiction=j,
        agency=project.agency,
        role=terms.role,
        counterparty=terms.counterparty,
        credit_code=terms.credit_code,
        amount_fen=terms.amount_fen,
        signed_on=terms.signed_on,
        starts_on=terms.starts_on,
        ends_on=terms.ends_on,
        milestones=split_milestones(terms.amount_fen, terms.milestones),
        ip_to_government=terms.ip_to_government,
        filed_on=filed_on,
        filing_due_on=due,
        late=bool(notes),
        filed_by=filing.by,
        filed_at=filing.at,
        notes=list(citations(notes)),
        idempotency_key=filing.idempotency_key,
    )
    project.file_contract(contract, refusals, policy.rule(j, "procurement.contract_filing").articles)
    return contract
