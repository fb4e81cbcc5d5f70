"""Funding's first tables: projects, disbursements, outbox, inbox.

Revision ID: 0001
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_outbox_and_inbox, drop_outbox_and_inbox

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "projects",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False, index=True),
        sa.Column("agency", sa.String(128), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("declared_amount_fen", sa.BigInteger, nullable=False),
        sa.Column("approved", sa.Boolean, nullable=False),
        sa.Column("approved_amount_fen", sa.BigInteger, nullable=True),
    )
    op.create_table(
        "disbursements",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False, index=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(128), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("purpose", sa.String(200), nullable=False),
        sa.Column("requested_by", sa.String(128), nullable=False),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("closed_gates", sa.JSON, nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.Column("released_at", sa.DateTime(timezone=True), nullable=True),
        sa.UniqueConstraint("agency", "idempotency_key", name="uq_disbursements_agency_idempotency_key"),
    )
    create_outbox_and_inbox()


def downgrade() -> None:
    drop_outbox_and_inbox()
    op.drop_table("disbursements")
    op.drop_table("projects")
