"""Every event type of the suite, decoded through one TypeAdapter over a discriminated union."""

from __future__ import annotations

from typing import Annotated, Any, Union

from pydantic import Field, ValidationError

from shared.contracts.acceptance import (
    AcceptanceDeadlineMoved,
    AcceptanceReportFiled,
    AuditReportFiled,
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceApplied,
    FinalAcceptanceConcluded,
    InitialAcceptanceRecorded,
    PostEvaluationDue,
    SecurityAttested,
    TrialRunRecorded,
)
from shared.contracts.envelope import (
    SEQUENCE,
    Envelope,
    Event,
    InvalidEventData,
    UnknownEventType,
    parse_sequence,
    read_envelope,
)
from shared.contracts.funding import (
    BudgetOpened,
    DisbursementHeld,
    DisbursementRejected,
    DisbursementReleased,
    DisbursementRequested,
    FundingDeadlineMoved,
    OmDecided,
    ReclaimRecorded,
    SettlementRecorded,
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
    ProjectScreened,
    ProjectTerminated,
    ProjectWithdrawn,
    RectificationOrdered,
    RectificationReviewed,
    TerminationDecided,
)
from shared.contracts.procurement import (
    ChangeRecorded,
    ChangeReviewRequested,
    ConstructionCompleted,
    ConstructionStarted,
    ContractFiled,
    DeadlineMissed,
    ProcurementDeadlineMoved,
    ProgressReported,
    PurchaseFiled,
    RequirementsReviewed,
    TenderRecorded,
    TerminationRecommended,
)
from shared.contracts.review import (
    ExpertReplaced,
    PanelDrawn,
    ReviewCaseOpened,
    ReviewConcluded,
    ReviewDeadlineMoved,
    ReviewOverdue,
)

EVENTS: tuple[type[Event], ...] = (
    ProjectDeclared,
    ProjectScreened,
    ProjectIncludedInPlan,
    ProjectApproved,
    DesignApproved,
    ProjectRejected,
    ProjectWithdrawn,
    ProjectTerminated,
    TerminationDecided,
    ProjectRecorded,
    RectificationOrdered,
    RectificationReviewed,
    OversightMeasureTaken,
    OversightMeasureLifted,
    ReviewCaseOpened,
    PanelDrawn,
    ExpertReplaced,
    ReviewConcluded,
    ReviewOverdue,
    ReviewDeadlineMoved,
    RequirementsReviewed,
    TenderRecorded,
    ContractFiled,
    ConstructionStarted,
    ProgressReported,
    DeadlineMissed,
    TerminationRecommended,
    ProcurementDeadlineMoved,
    ChangeRecorded,
    ChangeReviewRequested,
    ConstructionCompleted,
    PurchaseFiled,
    InitialAcceptanceRecorded,
    TrialRunRecorded,
    DataSharingDecided,
    SecurityAttested,
    AuditReportFiled,
    FinalAcceptanceApplied,
    FinalAcceptanceConcluded,
    AcceptanceReportFiled,
    EvaluationRecorded,
    PostEvaluationDue,
    AcceptanceDeadlineMoved,
    BudgetOpened,
    DisbursementRequested,
    DisbursementHeld,
    DisbursementReleased,
    DisbursementRejected,
    ReclaimRecorded,
    OmDecided,
    SettlementRecorded,
    FundingDeadlineMoved,
)

CATALOG: dict[str, type[Event]] = {model.model_fields["type"].default: model for model in EVENTS}

AnyEvent = Annotated[Union[EVENTS], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007


def event_from(event_type: str, data: dict[str, Any]) -> Event:
    """An event of a documented type from data given by hand (a command line, a manual record):
    checked against its schema, and fields the schema lacks refused rather than dropped.
    Raises KeyError for an unknown type, pydantic's ValidationError for data that does not fit."""
    event: Event = CATALOG[event_type].model_validate({**data, "type": event_type}, extra="forbid")
    return event


def decode(raw: bytes) -> Envelope:
    """Decode a structured CloudEvent into a typed Envelope, or raise UndeliverableEvent."""
    attributes, data = read_envelope(raw)
    event_type = str(attributes.get("type", ""))
    if event_type not in CATALOG:
        raise UnknownEventType(f"unknown event type {event_type!r}")
    try:
        event: Event = CATALOG[event_type].model_validate({**data, "type": event_type})
    except ValidationError as exc:
        raise InvalidEventData(f"{event_type}: {exc.error_count()} schema errors: {exc}") from exc
    if attributes.get("subject") != event.project_id:
        raise InvalidEventData("subject must equal data.project_id")
    return Envelope(
        id=str(attributes["id"]),
        source=str(attributes["source"]),
        type=event_type,
        time=attributes["time"],
        subject=str(attributes["subject"]),
        data=event,
        sequence=parse_sequence(attributes.get(SEQUENCE)),
    )
