"""The holiday notices the open deadlines were last settled by, so that a notice loaded while
the service was stopped is settled (moved and announced) when it starts.

Revision ID: 0009
"""

from shared.migrations import create_calendar_settled, drop_calendar_settled

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_calendar_settled()


def downgrade() -> None:
    drop_calendar_settled()
