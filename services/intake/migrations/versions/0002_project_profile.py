"""Project profile: nature, software-development share, packaged software, simple project.

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
        batch.add_column(sa.Column("nature", sa.String(16), nullable=False, server_default="new"))
        batch.add_column(sa.Column("software_fen", sa.BigInteger, nullable=False, server_default="0"))
        batch.add_column(
            sa.Column("packaged_software", sa.Boolean, nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("simple", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        for column in ("simple", "packaged_software", "software_fen", "nature"):
            batch.drop_column(column)
