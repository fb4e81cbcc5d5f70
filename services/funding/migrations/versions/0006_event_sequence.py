"""Each project's events numbered by this service; each gate keeps the order of the facts that set it.

Revision ID: 0006
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_event_sequence, drop_event_sequence

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_sequence()
    with op.batch_alter_table("gates") as batch:
        batch.add_column(sa.Column("ordering", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gates") as batch:
        batch.drop_column("ordering")
    drop_event_sequence()
