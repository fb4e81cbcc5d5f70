"""Procurement's domain: a project from approval to completed construction.

One module per aggregate or decision: errors, records (what a project keeps inside itself),
project (the aggregate), prerequisites (what the pack says before anything starts), procurement
(requirements, tender, contract filing), contracts and milestones, firms (the 失信 list),
construction (start, reports, completion), changes and change_requests (paths and decisions),
deadlines and periods (limits that run by themselves), arrivals (intake's and review's events),
purchases (计划外采购 and their filing, outside any project).
"""

from services.procurement.domain.arrivals import declared, review_starts_clock, reviewed_changes
from services.procurement.domain.change_requests import decide_change, request_change
from services.procurement.domain.changes import (
    Change,
    ChangeFigures,
    ChangeRequest,
    ChangeRoute,
    ChangeState,
    Decision,
    Ground,
    Path,
    expert_review_wanted,
    route_change,
)
from services.procurement.domain.construction import (
    Reporting,
    complete,
    record_exception,
    report,
    security_test_required,
    start,
    supervision_required,
)
from services.procurement.domain.contracts import Contract, ContractTerms, Role, filing_due
from services.procurement.domain.deadlines import Due, Facts, deadline_message, deadlines
from services.procurement.domain.errors import (
    ChangeNotFound,
    EventMismatch,
    ExceptionNotAllowed,
    InvalidState,
    ProcurementError,
    ProjectNotFound,
    RuleViolation,
)
from services.procurement.domain.firms import Firm, Listing, blacklisted, check_listing, list_firm
from services.procurement.domain.milestones import PaymentMilestone, split_milestones
from services.procurement.domain.periods import period_label, period_starts, valid_period
from services.procurement.domain.procurement import (
    OnFile,
    check_contract_terms,
    check_tender_dates,
    file_contract,
    record_tender,
    review_requirements,
    submit_requirements,
)
from services.procurement.domain.project import Project
from services.procurement.domain.project_deadlines import (
    DeadlineState,
    deadline_states,
    facts_of,
    note_missed,
)
from services.procurement.domain.purchases import (
    Purchase,
    PurchaseTerms,
    file_purchase,
    note_missed_filing,
    record_purchase,
)
from services.procurement.domain.records import Filing, Report, Requirements, Tender, new_id
from services.procurement.domain.status import Status

__all__ = [
    "Change",
    "ChangeFigures",
    "ChangeNotFound",
    "ChangeRequest",
    "ChangeRoute",
    "ChangeState",
    "Contract",
    "ContractTerms",
    "DeadlineState",
    "Decision",
    "Due",
    "EventMismatch",
    "ExceptionNotAllowed",
    "Facts",
    "Filing",
    "Firm",
    "Ground",
    "InvalidState",
    "Listing",
    "OnFile",
    "Path",
    "PaymentMilestone",
    "ProcurementError",
    "Project",
    "ProjectNotFound",
    "Purchase",
    "PurchaseTerms",
    "Report",
    "Reporting",
    "Requirements",
    "Role",
    "RuleViolation",
    "Status",
    "Tender",
    "blacklisted",
    "check_contract_terms",
    "check_listing",
    "check_tender_dates",
    "complete",
    "deadline_message",
    "deadline_states",
    "deadlines",
    "decide_change",
    "declared",
    "expert_review_wanted",
    "facts_of",
    "file_contract",
    "file_purchase",
    "filing_due",
    "list_firm",
    "new_id",
    "note_missed",
    "note_missed_filing",
    "period_label",
    "period_starts",
    "record_exception",
    "record_purchase",
    "record_tender",
    "report",
    "request_change",
    "review_requirements",
    "review_starts_clock",
    "reviewed_changes",
    "route_change",
    "security_test_required",
    "split_milestones",
    "start",
    "submit_requirements",
    "supervision_required",
    "valid_period",
]
