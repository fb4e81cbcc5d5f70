"""A termination recommended by a deadline waits for the authority's decision (原则上: zhonglou §17,
bayingolin §21): the recommendation and the decision are kept on the project.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.add_column(sa.Column("termination", sa.JSON, nullable=True))
        batch.add_column(sa.Column("termination_state", sa.String(16), nullable=True))
        batch.create_index("ix_projects_termination_state", ["termination_state"])


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        batch.drop_index("ix_projects_termination_state")
        batch.drop_column("termination_state")
        batch.drop_column("termination")
