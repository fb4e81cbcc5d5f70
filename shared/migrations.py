"""Migration helpers: the outbox and inbox tables every service's first migration creates."""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


def create_outbox_and_inbox() -> None:
    op.create_table(
        "outbox",
        sa.Column(
            "seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True
        ),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("subject", sa.String(255), nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
        sa.Column("headers", sa.JSON, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_outbox_published_at", "outbox", ["published_at"])
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(64), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("handled_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_outbox_and_inbox() -> None:
    op.drop_table("inbox")
    op.drop_index("ix_outbox_published_at", "outbox")
    op.drop_table("outbox")
