"""Declaration lifecycle: drafts, screening inputs, plans, review, approval, agencies, materials,
sign-offs, decisions and bars.

Revision ID: 0003
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TEXT_DEFAULT = sa.text("''")
NEW_COLUMNS: list[sa.Column[Any]] = [
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
    sa.Column("summary", sa.Text, nullable=False, server_default=TEXT_DEFAULT),
    sa.Column("deployment", sa.String(24), nullable=False, server_default="GOV_CLOUD"),
    sa.Column("deployment_explanation", sa.Text, nullable=False, server_default=TEXT_DEFAULT),
    sa.Column("xinchuang_compatible", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("shares_data_with_platform", sa.Boolean, nullable=False, server_default=sa.true()),
    sa.Column("assigned_from_above", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("data_sharing_items", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("security_plan", sa.Text, nullable=False, server_default=TEXT_DEFAULT),
    sa.Column("off_plan", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("off_plan_reason", sa.Text, nullable=False, server_default=TEXT_DEFAULT),
    sa.Column("funding_source", sa.String(16), nullable=False, server_default="LOCAL"),
    sa.Column("upper_approval_ref", sa.String(128), nullable=False, server_default=TEXT_DEFAULT),
    sa.Column("predecessor_id", sa.String(64), nullable=True),
    sa.Column("predecessor_acceptance_ref", sa.String(128), nullable=False, server_default=TEXT_DEFAULT),
    sa.Column("requested_plan_year", sa.Integer, nullable=True),
    sa.Column("review_batch", sa.String(16), nullable=True),
    sa.Column("notes", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("flags", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
    sa.Column("plan_rank", sa.Integer, nullable=True),
    sa.Column("plan_document", sa.String(128), nullable=True),
    sa.Column("review_stage", sa.String(32), nullable=True),
    sa.Column("review_verdict", sa.String(16), nullable=True),
    sa.Column("review_case_id", sa.String(64), nullable=True),
    sa.Column("reviews", sa.JSON, nullable=False, server_default=sa.text("'{}'")),
    sa.Column("final_acceptance", sa.String(16), nullable=True),
    sa.Column("approval_number", sa.String(128), nullable=True),
    sa.Column("approved_scope", sa.Text, nullable=True),
    sa.Column("closed_reason", sa.Text, nullable=True),
]


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        for column in NEW_COLUMNS:
            batch.add_column(column)
        batch.alter_column("declared_at", existing_type=sa.DateTime(timezone=True), nullable=True)
        batch.create_unique_constraint("uq_projects_approval_number", ["jurisdiction", "approval_number"])
        batch.create_index("ix_projects_plan_year", ["plan_year"])
    op.execute("UPDATE projects SET created_at = declared_at")
    # 0002's default wrote the value ('new') where the column keeps enum names ('NEW').
    op.execute("UPDATE projects SET nature = UPPER(nature)")
    with op.batch_alter_table("projects") as batch:
        batch.alter_column("created_at", existing_type=sa.DateTime(timezone=True), nullable=False)

    op.create_table(
        "agencies",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("level", sa.String(16), nullable=False),
        sa.Column("parent", sa.String(128), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("duties_unmet", sa.Boolean, nullable=False),
        sa.Column("duties_note", sa.Text, nullable=False),
        sa.UniqueConstraint("name", name="uq_agencies_name"),
    )
    op.create_table(
        "materials",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False, index=True),
        sa.Column("material", sa.String(64), nullable=False),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(128), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("uploaded_by", sa.String(128), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "signoffs",
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("signoff", sa.String(64), primary_key=True),
        sa.Column("document_ref", sa.String(128), nullable=False),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "decisions",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False, index=True),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("outcome", sa.String(32), nullable=False),
        sa.Column("by", sa.String(128), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
    )
    op.create_table(
        "bars",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(128), nullable=False, index=True),
        sa.Column("ground", sa.String(48), nullable=False),
        sa.Column("source_project_id", sa.String(64), nullable=False),
        sa.Column("since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("detail", sa.Text, nullable=False),
        sa.Column("lifted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("effective_on", sa.Date, nullable=True),
    )
    op.create_table(
        "plans",
        sa.Column("jurisdiction", sa.String(32), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("document", sa.String(128), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.String(128), nullable=True),
    )
    op.create_table(
        "plan_entries",
        sa.Column("jurisdiction", sa.String(32), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("rank", sa.Integer, primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False, unique=True),
    )


def downgrade() -> None:
    for table in ("plan_entries", "plans", "bars", "decisions", "signoffs", "materials", "agencies"):
        op.drop_table(table)
    with op.batch_alter_table("projects") as batch:
        batch.drop_index("ix_projects_plan_year")
        batch.drop_constraint("uq_projects_approval_number", type_="unique")
        for column in reversed(NEW_COLUMNS):
            batch.drop_column(column.name)
