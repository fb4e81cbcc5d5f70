"""Events procurement consumes (intake, review), and its durable consumer's name."""

from __future__ import annotations

from services.procurement import handlers
from shared.consume import EventHandler
from shared.contracts import Event
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
    TerminationDecided,
)
from shared.contracts.review import ReviewConcluded

DURABLE = "procurement"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {
    ProjectDeclared: handlers.record_declared,
    ProjectRecorded: handlers.record_upper_level,
    ProjectIncludedInPlan: handlers.record_plan,
    ProjectApproved: handlers.record_approval,
    DesignApproved: handlers.record_design_approval,
    ReviewConcluded: handlers.record_review,
    ProjectRejected: handlers.close,
    ProjectWithdrawn: handlers.close,
    ProjectTerminated: handlers.close,
    TerminationDecided: handlers.record_termination_decision,
    OversightMeasureTaken: handlers.record_measure,
    OversightMeasureLifted: handlers.record_measure,
}
