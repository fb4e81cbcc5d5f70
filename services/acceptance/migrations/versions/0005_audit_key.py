"""Audit entries record their algorithm: HMAC under the audit key from now on (shared.audit_key).

Revision ID: 0005
"""

from shared.migrations import key_audit_log, unkey_audit_log

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    key_audit_log()


def downgrade() -> None:
    unkey_audit_log()
