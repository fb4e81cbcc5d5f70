"""Events review consumes, and its durable consumer's name."""

from __future__ import annotations

from services.review import handlers
from shared.consume import EventHandler
from shared.contracts import Event
from shared.contracts.acceptance import FinalAcceptanceApplied, PostEvaluationDue
from shared.contracts.intake import ProjectScreened
from shared.contracts.procurement import ChangeReviewRequested

DURABLE = "review"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {
    ProjectScreened: handlers.open_for_screened,
    ChangeReviewRequested: handlers.open_for_change,
    FinalAcceptanceApplied: handlers.open_for_acceptance,
    PostEvaluationDue: handlers.open_for_post_evaluation,
}
