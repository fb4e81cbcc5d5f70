"""Whether the project is classified (涉密), as declared: the O&M rules that speak of 非涉密
systems only (zhonglou §28, shexian §44(三)) leave it out.

Revision ID: 0008
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


# Added and dropped in place: recreating the table (a batch on SQLite) would drop a table the
# disbursements and gates refer to.


def upgrade() -> None:
    op.add_column("projects", sa.Column("classified", sa.Boolean, nullable=False, server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("projects", "classified")
