"""The gate ledger, filed contracts, reclaims; payment kinds, milestones and O&M on disbursements.

Revision ID: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("kind", sa.String(32), nullable=False, server_default="construction"))
        batch.add_column(sa.Column("accepted_on", sa.Date, nullable=True))
        batch.add_column(sa.Column("terminated", sa.Boolean, nullable=False, server_default=sa.false()))
        batch.add_column(sa.Column("settlement", sa.JSON, nullable=True))
    with op.batch_alter_table("disbursements") as batch:
        batch.add_column(sa.Column("contract_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("milestone", sa.String(100), nullable=True))
        batch.add_column(sa.Column("milestone_key", sa.String(200), nullable=True))
        batch.add_column(sa.Column("stage", sa.String(32), nullable=True))
        batch.add_column(sa.Column("budget_year", sa.Integer, nullable=True))
        batch.add_column(sa.Column("decided_reason", sa.Text, nullable=True))
        batch.add_column(sa.Column("om_key", sa.String(100), nullable=True))
        batch.create_check_constraint("ck_disbursements_amount_positive", "amount_fen > 0")
    op.create_index("ix_disbursements_milestone", "disbursements", ["milestone_key"])
    op.create_index("uq_disbursements_om_year", "disbursements", ["om_key"], unique=True)
    op.create_table(
        "gates",
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), primary_key=True),
        sa.Column("gate", sa.String(32), primary_key=True),
        sa.Column("open", sa.Boolean, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=True),
        sa.Column("event_type", sa.String(100), nullable=True),
        sa.Column("event_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("detail", sa.JSON, nullable=False),
    )
    op.create_table(
        "contracts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False, index=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("counterparty", sa.String(200), nullable=False),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("milestones", sa.JSON, nullable=False),
    )
    op.create_table(
        "reclaims",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("project_id", sa.String(64), sa.ForeignKey("projects.id"), nullable=False, unique=True),
        sa.Column("jurisdiction", sa.String(32), nullable=False),
        sa.Column("agency", sa.String(128), nullable=False, index=True),
        sa.Column("amount_fen", sa.BigInteger, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("articles", sa.JSON, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("returned_fen", sa.BigInteger, nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
    )
    # Projects approved before the ledger existed: their approval and plan gates are open.
    gates = sa.table(
        "gates",
        sa.column("project_id", sa.String),
        sa.column("gate", sa.String),
        sa.column("open", sa.Boolean),
        sa.column("detail", sa.JSON),
    )
    projects = sa.table("projects", sa.column("id", sa.String), sa.column("approved", sa.Boolean))
    approved = [row.id for row in op.get_bind().execute(sa.select(projects.c.id).where(projects.c.approved))]
    op.bulk_insert(
        gates,
        [
            {"project_id": pid, "gate": gate, "open": True, "detail": {"migrated": True}}
            for pid in approved
            for gate in ("approval", "plan")
        ],
    )


def downgrade() -> None:
    op.drop_table("reclaims")
    op.drop_table("contracts")
    op.drop_table("gates")
    op.drop_index("uq_disbursements_om_year", table_name="disbursements")
    op.drop_index("ix_disbursements_milestone", table_name="disbursements")
    with op.batch_alter_table("disbursements") as batch:
        batch.drop_constraint("ck_disbursements_amount_positive", type_="check")
        for column in (
            "om_key",
            "decided_reason",
            "budget_year",
            "stage",
            "milestone_key",
            "milestone",
            "contract_id",
        ):
            batch.drop_column(column)
    with op.batch_alter_table("projects") as batch:
        for column in ("settlement", "terminated", "accepted_on", "kind"):
            batch.drop_column(column)
