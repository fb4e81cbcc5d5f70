"""Events funding consumes (intake, procurement, acceptance): the gate ledger, and its durable name."""

from __future__ import annotations

from services.funding import event_handlers as handlers
from shared.consume import EventHandler
from shared.contracts import Event
from shared.contracts.acceptance import (
    AuditReportFiled,
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceConcluded,
    InitialAcceptanceRecorded,
    SecurityAttested,
)
from shared.contracts.intake import (
    DesignApproved,
    OversightMeasureLifted,
    OversightMeasureTaken,
    ProjectApproved,
    ProjectDeclared,
    ProjectIncludedInPlan,
    ProjectRecorded,
    ProjectRejected,
    ProjectTerminated,
    ProjectWithdrawn,
)
from shared.contracts.procurement import ChangeRecorded, ConstructionCompleted, ContractFiled

DURABLE = "funding"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {
    ProjectDeclared: handlers.record_declared_project,
    ProjectRecorded: handlers.record_upper_level,
    ProjectIncludedInPlan: handlers.open_plan_gate,
    ProjectApproved: handlers.open_approval_gate,
    DesignApproved: handlers.open_design_gate,
    ProjectRejected: handlers.close_for_good,
    ProjectWithdrawn: handlers.close_for_good,
    ProjectTerminated: handlers.close_for_good,
    ChangeRecorded: handlers.revise_total,
    ContractFiled: handlers.record_contract,
    ConstructionCompleted: handlers.open_completion_gate,
    InitialAcceptanceRecorded: handlers.record_initial_acceptance,
    FinalAcceptanceConcluded: handlers.record_final_acceptance,
    AuditReportFiled: handlers.record_audit_report,
    DataSharingDecided: handlers.record_data_sharing,
    SecurityAttested: handlers.record_security,
    EvaluationRecorded: handlers.record_evaluation,
    OversightMeasureTaken: handlers.record_measure,
    OversightMeasureLifted: handlers.record_measure,
}
