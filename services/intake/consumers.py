"""Events intake consumes (review, procurement, acceptance) and its durable consumer's name."""

from __future__ import annotations

from services.intake import event_handlers as handlers
from shared.consume import EventHandler
from shared.contracts import Event
from shared.contracts.acceptance import (
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceConcluded,
    SecurityAttested,
)
from shared.contracts.procurement import TerminationRecommended
from shared.contracts.review import ReviewConcluded

DURABLE = "intake"
SUBSCRIPTIONS: dict[type[Event], EventHandler] = {
    ReviewConcluded: handlers.record_review,
    TerminationRecommended: handlers.terminate,
    FinalAcceptanceConcluded: handlers.record_final_acceptance,
    DataSharingDecided: handlers.record_data_sharing,
    EvaluationRecorded: handlers.record_evaluation,
    SecurityAttested: handlers.record_security,
}
