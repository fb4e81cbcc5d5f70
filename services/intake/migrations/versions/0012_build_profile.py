"""How a declared project is built (建设方式): on the shared platform or why not (shexian §10), the
networks its links run on and leased lines (xunyang §12–13), the hardware it procures and whether
安全自主可控 (lhasa §26, bayingolin §17), its 网络安全审查, and its software costs (lhasa §11).
Projects declared before say nothing of these: on the platform, no links, no hardware.

Revision ID: 0012
"""

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def _columns() -> tuple[sa.Column[Any], ...]:
    return (
        sa.Column("on_platform", sa.Boolean, nullable=False, server_default=sa.true()),
        sa.Column("off_platform_reason", sa.Text, nullable=False, server_default=""),
        sa.Column("network_links", sa.JSON, nullable=False, server_default=sa.text("'{}'")),
        sa.Column("leases_lines", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("hardware", sa.JSON, nullable=False, server_default=sa.text("'[]'")),
        sa.Column("hardware_secure_controllable", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("cybersecurity_review_ref", sa.String(128), nullable=False, server_default=""),
        sa.Column("original_development", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column("development_fees_separate", sa.Boolean, nullable=False, server_default=sa.false()),
    )


def upgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        for column in _columns():
            batch.add_column(column)


def downgrade() -> None:
    with op.batch_alter_table("projects") as batch:
        for column in reversed(_columns()):
            batch.drop_column(column.name)
