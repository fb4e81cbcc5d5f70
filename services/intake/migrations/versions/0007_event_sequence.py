"""Each project's events numbered by this service (the CloudEvents sequence extension).

Revision ID: 0007
"""

from shared.migrations import create_event_sequence, drop_event_sequence

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_event_sequence()


def downgrade() -> None:
    drop_event_sequence()
