"""Intake's domain: the declared project from draft to approval, and the decisions that ask the
policy pack about it — requirements (materials, sign-offs), submission (plan cycle, standing),
formal review (screening), approval, the annual plan. Pure: no framework, database or broker."""

from services.intake.domain.declaration import DECLARATION_FIELDS, Declaration
from services.intake.domain.errors import (
    AgencyNotFound,
    AgencyNotRegistered,
    ApprovalRefused,
    DeclarationRefused,
    IntakeError,
    InvalidDeclaration,
    InvalidTransition,
    MaterialNotAccepted,
    PlanError,
    ProjectNotFound,
    TerminationDecisionInvalid,
    WrongJurisdiction,
)
from services.intake.domain.kinds import (
    ADMITTED,
    EDITABLE,
    LIVE,
    OPEN_FOR_MATERIALS,
    PRE_APPROVAL_STAGES,
    WITHDRAWABLE,
    FundingSource,
    ProjectKind,
    ProjectNature,
    ProjectStatus,
)
from services.intake.domain.projects import Project
from services.intake.domain.records import Agency, ApprovalTerms, Bar, Entry, Judgement, Material, Signoff

__all__ = [
    "ADMITTED",
    "DECLARATION_FIELDS",
    "EDITABLE",
    "LIVE",
    "OPEN_FOR_MATERIALS",
    "PRE_APPROVAL_STAGES",
    "WITHDRAWABLE",
    "Agency",
    "AgencyNotFound",
    "AgencyNotRegistered",
    "ApprovalRefused",
    "ApprovalTerms",
    "Bar",
    "Declaration",
    "DeclarationRefused",
    "Entry",
    "FundingSource",
    "IntakeError",
    "InvalidDeclaration",
    "InvalidTransition",
    "Judgement",
    "Material",
    "MaterialNotAccepted",
    "PlanError",
    "Project",
    "ProjectKind",
    "ProjectNature",
    "ProjectNotFound",
    "ProjectStatus",
    "Signoff",
    "TerminationDecisionInvalid",
    "WrongJurisdiction",
]
