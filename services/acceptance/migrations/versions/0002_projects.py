"""Projects with their acceptance records.

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
        sa.Column("software_fen", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(24), nullable=False, index=True),
        sa.Column("completed_on", sa.Date, nullable=True),
        sa.Column("contractors", sa.JSON, nullable=False),
        sa.Column("supervisor", sa.String(200), nullable=True),
        sa.Column("initial", sa.JSON, nullable=True),
        sa.Column("trial_started_on", sa.Date, nullable=True),
        sa.Column("trial_ended_on", sa.Date, nullable=True),
        sa.Column("data_sharing", sa.JSON, nullable=True),
        sa.Column("attestations", sa.JSON, nullable=False),
        sa.Column("audit_report", sa.JSON, nullable=True),
        sa.Column("delay", sa.JSON, nullable=True),
        sa.Column("applications", sa.JSON, nullable=False),
        sa.Column("accepted_on", sa.Date, nullable=True, index=True),
        sa.Column("report", sa.JSON, nullable=True),
        sa.Column("report_due_on", sa.Date, nullable=True),
        sa.Column("rectification", sa.JSON, nullable=True),
        sa.Column("evaluations", sa.JSON, nullable=False),
        sa.Column("notices", sa.JSON, nullable=False),
        sa.Column("closed_reason", sa.Text, nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("projects")
