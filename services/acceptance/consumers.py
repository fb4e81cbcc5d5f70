"""Events acceptance consumes (intake, procurement, review), and its durable consumer's name."""

from __future__ import annotations

from services.acceptance import handlers
from shared.consume import EventHandler
from shared.contracts import Event
from shared.contracts.intake import (
    ProjectDeclared,
    ProjectRecorded,
    ProjectRejected,
    ProjectTerminated,
    ProjectWithdrawn,
)
from shared.contracts.procurement import ConstructionCompleted
from shared.contracts.review import ReviewConcluded

DURABLE = "acceptance"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {
    ProjectDeclared: handlers.record_declared,
    ProjectRecorded: handlers.record_upper_level,
    ConstructionCompleted: handlers.record_completion,
    ReviewConcluded: handlers.record_review,
    ProjectRejected: handlers.close,
    ProjectWithdrawn: handlers.close,
    ProjectTerminated: handlers.close,
}
