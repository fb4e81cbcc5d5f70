"""Expert pool and review cases.

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
        "experts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("employer", sa.String(128), nullable=False, index=True),
        sa.Column("title", sa.String(64), nullable=False),
        sa.Column("specialties", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("status_reason", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject", sa.String(128), nullable=True, unique=True),
    )
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), nullable=False, index=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False, index=True),
        sa.Column("stage", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(128), nullable=False),
        sa.Column("parties", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_by", sa.String(128), nullable=False),
        sa.Column("received_on", sa.Date, nullable=False),
        sa.Column("round", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("seed", sa.String(64), nullable=True),
        sa.Column("candidates", sa.JSON, nullable=False),
        sa.Column("seats", sa.JSON, nullable=False),
        sa.Column("declined", sa.JSON, nullable=False),
        sa.Column("clock", sa.String(48), nullable=True),
        sa.Column("due_on", sa.Date, nullable=True, index=True),
        sa.Column("overdue_notified", sa.Boolean, nullable=False),
        sa.Column("verdict", sa.String(16), nullable=True),
        sa.Column("concluded_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("third_party_assessment", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("cases")
    op.drop_table("experts")
