"""The authority's exceptions to 原则上 refusals (shexian §30 监理), and purchases outside the annual
plan with their filing (lhasa §10 第二款).

Revision ID: 0009
"""

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("exceptions", sa.JSON, nullable=True))
    op.create_table(
        "purchases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False, index=True),
        sa.Column("agency", sa.String(128), nullable=False, index=True),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("category", sa.String(32), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("supplier", sa.String(200), nullable=False),
        sa.Column("credit_code", sa.String(18), nullable=False),
        sa.Column("procured_on", sa.Date, nullable=False),
        sa.Column("filing_due_on", sa.Date, nullable=False, index=True),
        sa.Column("recorded_by", sa.String(128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("materials", sa.Text, nullable=True),
        sa.Column("filed_on", sa.Date, nullable=True),
        sa.Column("filed_by", sa.String(128), nullable=True),
        sa.Column("late", sa.Boolean, nullable=False),
        sa.Column("notes", sa.JSON, nullable=False),
        sa.Column("missed_noticed", sa.Boolean, nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=True),
        sa.UniqueConstraint("agency", "idempotency_key", name="uq_purchases_idempotency"),
    )


def downgrade() -> None:
    op.drop_table("purchases")
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("exceptions")
