"""Acceptance's domain: the project from completed construction to its evaluations, and the
decisions that move it, one module each (pure: no framework, no storage)."""

from services.acceptance.domain.application import (
    ARCHIVES,
    ApplicationDue,
    application_checks,
    application_due,
    archives_required,
    earliest_application,
    materials,
    required_materials,
)
from services.acceptance.domain.deadlines import Deadline, deadlines
from services.acceptance.domain.errors import (
    AcceptanceError,
    EvaluationNotFound,
    InvalidState,
    ProjectNotFound,
    RuleViolation,
)
from services.acceptance.domain.evaluation import (
    EvaluationReport,
    Window,
    evaluation_window,
    self_evaluation_due,
)
from services.acceptance.domain.final import experts_conclude, report_due
from services.acceptance.domain.outcomes import Application, Evaluation
from services.acceptance.domain.project import Pack, Project, Status, new_id
from services.acceptance.domain.records import (
    Attestation,
    AuditReport,
    DataSharing,
    Delay,
    InitialAcceptance,
    Rectification,
    Report,
)
from services.acceptance.domain.sharing import data_sharing_required
from services.acceptance.domain.trial import initial_due, trial_limit, trial_months

__all__ = [
    "ARCHIVES",
    "AcceptanceError",
    "Application",
    "ApplicationDue",
    "Attestation",
    "AuditReport",
    "DataSharing",
    "Deadline",
    "Delay",
    "Evaluation",
    "EvaluationNotFound",
    "EvaluationReport",
    "InitialAcceptance",
    "InvalidState",
    "Pack",
    "Project",
    "ProjectNotFound",
    "Rectification",
    "Report",
    "RuleViolation",
    "Status",
    "Window",
    "application_checks",
    "application_due",
    "archives_required",
    "data_sharing_required",
    "deadlines",
    "earliest_application",
    "evaluation_window",
    "experts_conclude",
    "initial_due",
    "materials",
    "new_id",
    "report_due",
    "required_materials",
    "self_evaluation_due",
    "trial_limit",
    "trial_months",
]
