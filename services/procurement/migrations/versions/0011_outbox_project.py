"""Each outbox event's project, so that the project's events are read back in order
(GET /projects/{project_id}/events).

Revision ID: 0011
"""

from shared.migrations import add_outbox_project, drop_outbox_project

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_project()


def downgrade() -> None:
    drop_outbox_project()
