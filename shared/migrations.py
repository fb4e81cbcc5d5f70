"""Migration helpers: the outbox, inbox and audit tables every service has."""

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


def create_audit_log() -> None:
    """The hash-chained audit log (shared.audit) and its head row."""
    op.create_table(
        "audit_log",
        sa.Column(
            "n", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=False
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.JSON, nullable=False),
        sa.Column("entity", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("action", sa.String(8), nullable=False),
        sa.Column("before", sa.JSON, nullable=True),
        sa.Column("after", sa.JSON, nullable=True),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_audit_log_entity_key", "audit_log", ["entity", "key"])
    head = op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "n": 0, "hash": "0" * 64}])


def drop_audit_log() -> None:
    op.drop_table("audit_head")
    op.drop_index("ix_audit_log_entity_key", "audit_log")
    op.drop_table("audit_log")


def add_inbox_provenance() -> None:
    """Where each handled event came from: its source, or who recorded it by hand and on what."""
    with op.batch_alter_table("inbox") as batch:
        batch.add_column(sa.Column("source", sa.String(255), nullable=True))
        batch.add_column(sa.Column("recorded_by", sa.String(128), nullable=True))
        batch.add_column(sa.Column("document_ref", sa.String(200), nullable=True))


def drop_inbox_provenance() -> None:
    with op.batch_alter_table("inbox") as batch:
        batch.drop_column("document_ref")
        batch.drop_column("recorded_by")
        batch.drop_column("source")


def create_event_sequence() -> None:
    """The producer's numbering of its events per project (the CloudEvents `sequence` extension)."""
    op.create_table(
        "event_sequence",
        sa.Column("project_id", sa.String(64), primary_key=True),
        sa.Column("last", sa.BigInteger, nullable=False),
    )


def drop_event_sequence() -> None:
    op.drop_table("event_sequence")


def key_audit_log() -> None:
    """Each audit entry records its algorithm (shared.audit_key): the entries so far are plain
    SHA-256 (`sha256`), every later one an HMAC under the audit key. A service seals the
    unkeyed entries with one keyed entry when it starts (shared.audit.seal_legacy)."""
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("alg", sa.String(16), nullable=False, server_default="sha256"))
    with op.batch_alter_table("audit_log") as batch:
        batch.alter_column("alg", existing_type=sa.String(16), existing_nullable=False, server_default=None)


def unkey_audit_log() -> None:
    """Back to one algorithm: keyed entries can then only be verified by a release that knows them."""
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("alg")


def create_calendar_settled() -> None:
    """The holiday notices the service's open deadlines were last settled by (shared.calendar_store)."""
    op.create_table(
        "calendar_settled",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("notices", sa.JSON, nullable=False),
        sa.Column("settled_at", sa.DateTime(timezone=True), nullable=False),
    )


def drop_calendar_settled() -> None:
    op.drop_table("calendar_settled")


def add_outbox_project() -> None:
    """Each outbox event's project, for the project's events read back in order (shared.events_api);
    the events already there take theirs from their subject (…events.<j>.<project>.<svc>.<name>.<v>)."""
    op.add_column("outbox", sa.Column("project_id", sa.String(64), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":  # the prefix has no dot: the project is the fourth token
        bind.execute(sa.text("UPDATE outbox SET project_id = split_part(subject, '.', 4)"))
    else:
        rows = bind.execute(sa.text("SELECT seq, subject FROM outbox")).all()
        if rows:
            bind.execute(
                sa.text("UPDATE outbox SET project_id = :project WHERE seq = :seq"),
                [{"project": subject.split(".")[-4], "seq": seq} for seq, subject in rows],
            )
    op.create_index("ix_outbox_project_id", "outbox", ["project_id", "seq"])


def drop_outbox_project() -> None:
    op.drop_index("ix_outbox_project_id", "outbox")
    op.drop_column("outbox", "project_id")
