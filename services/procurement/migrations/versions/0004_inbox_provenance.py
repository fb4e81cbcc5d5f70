"""Where each handled event came from.

Revision ID: 0004
"""

from shared.migrations import add_inbox_provenance, drop_inbox_provenance

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_inbox_provenance()


def downgrade() -> None:
    drop_inbox_provenance()
