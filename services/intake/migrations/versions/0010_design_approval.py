"""The second approval where the text asks for one (shexian §20(一): 500万 and more, 初步设计方案
报批 after the 可研 approval): whether the project awaits it, and its number and amount.

Revision ID: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("design_approval", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("design_approval")
