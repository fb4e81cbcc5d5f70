"""The latest evaluation of a project (绩效自评、后评价), kept to be shown as 重要依据 when its agency's
next declarations are screened and ranked (zhonglou §20, shexian §50).

Revision ID: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("evaluation", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_column("evaluation")
