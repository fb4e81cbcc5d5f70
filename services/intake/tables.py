"""Intake's tables and how its domain objects map onto them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import registry

from services.intake.domain import (
    Agency,
    FundingSource,
    Project,
    ProjectKind,
    ProjectNature,
    ProjectStatus,
)
from services.intake.domain.screening import Deployment
from shared.sqltypes import UTCDateTime

metadata = MetaData()
mapper = registry(metadata=metadata)


def _enum(cls: Any, length: int = 24) -> Enum:
    return Enum(cls, native_enum=False, length=length)


projects = Table(
    "projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False, index=True),
    Column("agency", String(128), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("kind", _enum(ProjectKind, 16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("classified", Boolean, nullable=False),
    Column("status", _enum(ProjectStatus, 16), nullable=False, index=True),
    Column("declared_at", UTCDateTime, nullable=True),
    Column("declared_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("idempotency_key", String(128), nullable=True),
    Column("nature", _enum(ProjectNature, 16), nullable=False),
    Column("software_fen", BigInteger, nullable=False),
    Column("packaged_software", Boolean, nullable=False),
    Column("simple", Boolean, nullable=False),
    Column("summary", Text, nullable=False),
    Column("deployment", _enum(Deployment), nullable=False),
    Column("deployment_explanation", Text, nullable=False),
    Column("xinchuang_compatible", Boolean, nullable=False),
    Column("shares_data_with_platform", Boolean, nullable=False),
    Column("assigned_from_above", Boolean, nullable=False),
    Column("data_sharing_items", JSON, nullable=False),
    Column("security_plan", Text, nullable=False),
    Column("off_plan", Boolean, nullable=False),
    Column("off_plan_reason", Text, nullable=False),
    Column("funding_source", _enum(FundingSource, 16), nullable=False),
    Column("upper_approval_ref", String(128), nullable=False),
    Column("predecessor_id", String(64), nullable=True),
    Column("predecessor_acceptance_ref", String(128), nullable=False),
    Column("requested_plan_year", Integer, nullable=True),
    Column("plan_year", Integer, nullable=True, index=True),
    Column("review_batch", String(16), nullable=True),
    Column("notes", JSON, nullable=False),
    Column("flags", JSON, nullable=False),
    Column("plan_rank", Integer, nullable=True),
    Column("plan_document", String(128), nullable=True),
    Column("review_stage", String(32), nullable=True),
    Column("review_verdict", String(16), nullable=True),
    Column("review_case_id", String(64), nullable=True),
    Column("reviews", JSON, nullable=False),
    Column("final_acceptance", String(16), nullable=True),
    Column("approval_number", String(128), nullable=True),
    Column("approved_scope", Text, nullable=True),
    Column("approved_amount_fen", BigInteger, nullable=True),
    Column("approved_at", UTCDateTime, nullable=True),
    Column("closed_reason", Text, nullable=True),
    Column("termination", JSON, nullable=True),  # 终止建议 and the authority's decision on it
    Column("termination_state", String(16), nullable=True, index=True),  # pending | the decision
    Column("oversight", JSON, nullable=True),  # 限期整改 orders and the measures taken on them
    Column("design_approval", JSON, nullable=True),  # 初步设计批复 awaited or given (shexian §20(一))
    Column("evaluation", JSON, nullable=True),  # the latest evaluation, a basis for the next years
    # 建设方式 (domain.facilities.BuildProfile): platform, networks, hardware, software costs
    Column("on_platform", Boolean, nullable=False),
    Column("off_platform_reason", Text, nullable=False),
    Column("network_links", JSON, nullable=False),
    Column("leases_lines", Boolean, nullable=False),
    Column("hardware", JSON, nullable=False),
    Column("hardware_secure_controllable", Boolean, nullable=False),
    Column("cybersecurity_review_ref", String(128), nullable=False),
    Column("original_development", Boolean, nullable=False),
    Column("development_fees_separate", Boolean, nullable=False),
    UniqueConstraint("agency", "idempotency_key", name="uq_projects_agency_idempotency_key"),
    UniqueConstraint("jurisdiction", "approval_number", name="uq_projects_approval_number"),
)

agencies = Table(
    "agencies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent", String(128), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("duties_unmet", Boolean, nullable=False),
    Column("duties_note", Text, nullable=False),
    # A token names its agency; the full official name (歙县教育局) must say which one.
    UniqueConstraint("name", name="uq_agencies_name"),
)

materials = Table(
    "materials",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, index=True),
    Column("material", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(128), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
)

signoffs = Table(
    "signoffs",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    Column("signoff", String(64), primary_key=True),
    Column("document_ref", String(128), nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("by", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False),
    Column("reasons", JSON, nullable=False),
)

bars = Table(
    "bars",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False),
    Column("agency", String(128), nullable=False, index=True),
    Column("ground", String(48), nullable=False),
    Column("source_project_id", String(64), nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("detail", Text, nullable=False),
    Column("lifted_at", UTCDateTime, nullable=True),
    Column("effective_on", Date, nullable=True),
)

plans = Table(
    "plans",
    metadata,
    Column("jurisdiction", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("status", String(16), nullable=False),  # draft | published
    Column("document", String(128), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
    Column("published_by", String(128), nullable=True),
)

plan_entries = Table(
    "plan_entries",
    metadata,
    Column("jurisdiction", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, unique=True),
)

mapper.map_imperatively(Project, projects)
mapper.map_imperatively(Agency, agencies)


@event.listens_for(Project, "load")
def _fresh_events(project: Project, _context: Any) -> None:
    project.events = []
    project.entries = []
