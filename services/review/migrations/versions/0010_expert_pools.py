"""Expert pools (专家库) per jurisdiction: each expert entry belongs to one pool.

Before pools every expert could sit on any jurisdiction's panel. So that nothing changes for
them, each expert of the one pool is put into every pool the packs name (by default each
jurisdiction's own, GOVIT_POLICY_DIR is read for others): the entry itself into the first pool
in order, an entry with the same name, employer, specialties, status and login subject, under
an id derived from the first one's, into each other pool. Panels already drawn keep their seats
(an expert acts on a seat by their login, whatever pool the entry is in). The authority of each
jurisdiction then suspends whom its pool should not hold. A login (subject) is unique per pool.

Revision ID: 0010
"""

import os
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from alembic import op

from shared.policy import load_registry

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

TYPES: dict[str, sa.types.TypeEngine[Any]] = {
    "specialties": sa.JSON(),
    "created_at": sa.DateTime(timezone=True),
}
COLUMNS = (
    "id",
    "name",
    "employer",
    "title",
    "specialties",
    "status",
    "status_reason",
    "created_at",
    "subject",
)


def _pools() -> list[str]:
    configured = os.environ.get("GOVIT_POLICY_DIR")
    registry = load_registry(Path(configured) if configured else None)
    return sorted({registry.expert_pool(code) for code in registry.codes})


def _copy_id(expert_id: str, pool: str) -> str:
    return uuid.uuid5(uuid.NAMESPACE_URL, f"govit:review:expert:{expert_id}:{pool}").hex


def _experts() -> sa.TableClause:
    return sa.table("experts", *(sa.column(name, TYPES.get(name)) for name in (*COLUMNS, "pool")))


def _drop_unique_subject() -> None:
    """The unique constraint on subject alone: unnamed in 0002 (PostgreSQL named it), named by a
    downgrade of this revision."""
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        convention = {"uq": "uq_%(table_name)s_%(column_0_name)s"}
        with op.batch_alter_table("experts", naming_convention=convention) as batch:
            batch.drop_constraint("uq_experts_subject", type_="unique")
        return
    for unique in sa.inspect(bind).get_unique_constraints("experts"):
        if unique["column_names"] == ["subject"] and unique["name"]:
            op.drop_constraint(unique["name"], "experts", type_="unique")


def upgrade() -> None:
    with op.batch_alter_table("experts") as batch:
        batch.add_column(sa.Column("pool", sa.String(32), nullable=False, server_default=""))
    _drop_unique_subject()
    pools = _pools()
    experts = _experts()
    bind = op.get_bind()
    rows = [dict(r._mapping) for r in bind.execute(sa.select(*(experts.c[n] for n in COLUMNS)))]
    first, others = pools[0], pools[1:]
    bind.execute(experts.update().values(pool=first))
    copies = [{**row, "id": _copy_id(row["id"], pool), "pool": pool} for row in rows for pool in others]
    if copies:
        bind.execute(experts.insert(), copies)
    with op.batch_alter_table("experts") as batch:
        batch.alter_column("pool", server_default=None)
        batch.create_index("ix_experts_pool", ["pool"])
        batch.create_unique_constraint("uq_experts_pool_subject", ["pool", "subject"])


def downgrade() -> None:
    """One pool again: the copies the upgrade made go; a login registered in several pools since
    stays on its earliest entry only."""
    experts = _experts()
    bind = op.get_bind()
    rows = bind.execute(
        sa.select(experts.c.id, experts.c.pool, experts.c.subject, experts.c.created_at)
    ).all()
    ids = {r.id for r in rows}
    copies = {_copy_id(r.id, pool) for r in rows for pool in _pools()} & ids
    if copies:
        bind.execute(experts.delete().where(experts.c.id.in_(sorted(copies))))
    seen: set[str] = set()
    for row in sorted(
        (r for r in rows if r.id not in copies and r.subject), key=lambda r: (r.created_at, r.id)
    ):
        if row.subject in seen:
            bind.execute(experts.update().where(experts.c.id == row.id).values(subject=None))
        seen.add(row.subject)
    with op.batch_alter_table("experts") as batch:
        batch.drop_constraint("uq_experts_pool_subject", type_="unique")
        batch.drop_index("ix_experts_pool")
        batch.drop_column("pool")
    with op.batch_alter_table("experts") as batch:
        batch.create_unique_constraint("uq_experts_subject", ["subject"])
