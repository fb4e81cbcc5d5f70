"""Projects, contracts, changes and firms.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False, index=True),
        sa.Column("agency", sa.String(128), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("declared_fen", sa.BigInteger, nullable=False),
        sa.Column("software_fen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("approved_fen", sa.BigInteger, nullable=True),
        sa.Column("approved_on", sa.Date, nullable=True),
        sa.Column("plan_issued_on", sa.Date, nullable=True),
        sa.Column("review_passed_on", sa.Date, nullable=True),
        sa.Column("overrun_fen", sa.BigInteger, nullable=False),
        sa.Column("adjusted_fen", sa.BigInteger, nullable=False),
        sa.Column("requirements", sa.JSON, nullable=True),
        sa.Column("tenders", sa.JSON, nullable=False),
        sa.Column("reports", sa.JSON, nullable=False),
        sa.Column("implementation_plan_on", sa.Date, nullable=True),
        sa.Column("contract_signed_on", sa.Date, nullable=True),
        sa.Column("contract_starts_on", sa.Date, nullable=True),
        sa.Column("contract_ends_on", sa.Date, nullable=True),
        sa.Column("contractors", sa.JSON, nullable=False),
        sa.Column("contract_total_fen", sa.BigInteger, nullable=False),
        sa.Column("supervisor", sa.String(200), nullable=True),
        sa.Column("started_on", sa.Date, nullable=True),
        sa.Column("completed_on", sa.Date, nullable=True),
        sa.Column("security_test_report", sa.Text, nullable=True),
        sa.Column("closed_reason", sa.String(64), nullable=True),
        sa.Column("notices", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False, index=True),
        sa.Column("agency", sa.String(128), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("counterparty", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False, index=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("signed_on", sa.Date, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=True),
        sa.Column("ends_on", sa.Date, nullable=True),
        sa.Column("milestones", sa.JSON, nullable=False),
        sa.Column("ip_to_government", sa.Boolean, nullable=False),
        sa.Column("filed_on", sa.Date, nullable=False),
        sa.Column("filing_due_on", sa.Date, nullable=True),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("filed_by", sa.String(128), nullable=False),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.UniqueConstraint("project_id", "idempotency_key", name="uq_contracts_idempotency"),
    )
    op.create_table(
        "changes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False, index=True),
        sa.Column("agency", sa.String(128), nullable=False, index=True),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("scope_effect", sa.Text, nullable=False),
        sa.Column("total_delta_fen", sa.BigInteger, nullable=False),
        sa.Column("adjustment_fen", sa.BigInteger, nullable=False),
        sa.Column("goal_changed", sa.Boolean, nullable=False),
        sa.Column("ground", sa.String(32), nullable=True),
        sa.Column("path", sa.String(16), nullable=False),
        sa.Column("approvers", sa.JSON, nullable=False),
        sa.Column("decisions", sa.JSON, nullable=False),
        sa.Column("review", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("articles", sa.JSON, nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.UniqueConstraint("project_id", "idempotency_key", name="uq_changes_idempotency"),
    )
    op.create_table(
        "firms",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("blacklisted", sa.Boolean, nullable=False, index=True),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.UniqueConstraint("jurisdiction", "credit_code", name="uq_firms_code"),
    )


def downgrade() -> None:
    op.drop_table("firms")
    op.drop_table("changes")
    op.drop_table("contracts")
    op.drop_table("projects")
