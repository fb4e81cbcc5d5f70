"""Where each handled event came from (and, for a gate, the system that set it).

Revision ID: 0004
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import add_inbox_provenance, drop_inbox_provenance

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_inbox_provenance()
    with op.batch_alter_table("gates") as batch:
        batch.add_column(sa.Column("event_source", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("gates") as batch:
        batch.drop_column("event_source")
    drop_inbox_provenance()
