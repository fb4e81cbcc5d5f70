"""Events review consumes, and its durable consumer's name."""

from __future__ import annotations

from services.review import handlers
from shared.consume import EventHandler
from shared.contracts import Event
from shared.contracts.acceptance import FinalAcceptanceApplied, PostEvaluationDue
from shared.contracts.intake import (
    ProjectApproved,
    ProjectRejected,
    ProjectScreened,
    ProjectTerminated,
    ProjectWithdrawn,
)
from shared.contracts.procurement import ChangeRecorded, ChangeReviewRequested

DURABLE = "review"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {
    ProjectScreened: handlers.open_for_screened,
    ProjectApproved: handlers.open_for_design,
    ChangeReviewRequested: handlers.open_for_change,
    ChangeRecorded: handlers.cancel_for_rejected_change,
    ProjectRejected: handlers.cancel_for_closed_project,
    ProjectWithdrawn: handlers.cancel_for_closed_project,
    ProjectTerminated: handlers.cancel_for_closed_project,
    FinalAcceptanceApplied: handlers.open_for_acceptance,
    PostEvaluationDue: handlers.open_for_post_evaluation,
}
