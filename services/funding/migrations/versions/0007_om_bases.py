"""重要依据 recorded beside an O&M decision (bayingolin §13: data sharing is a basis, not a gate).

Revision ID: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("disbursements") as batch:
        batch.add_column(sa.Column("bases", sa.JSON, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("disbursements") as batch:
        batch.drop_column("bases")
