"""The audit log: every state change of a service, with who made it, when, before and after.

Each service's database has an append-only, hash-chained `audit_log`. Every unit of work
appends one entry per changed row (ORM objects and Core INSERT/UPDATE/DELETE alike) in the
same transaction as the change, so a change without its entry cannot be committed. Entry n
carries the hash of entry n-1, and its own hash is an HMAC under the audit key
(shared.audit_key), so that only a holder of the key can write an entry that fits;
`audit_head` holds the last position and hash, and its row lock serializes appends. Altering
or deleting any entry breaks the chain and `govit audit verify` names the first entry that
no longer fits. Cutting the tail and rolling the head back leaves a shorter chain that fits:
the anchors each service publishes on the stream (shared.audit_anchor) catch that.
"""

from __future__ import annotations

import json
import logging
import weakref
from collections.abc import Mapping, Sequence
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    event,
    select,
)
from sqlalchemy.engine import Connection, CursorResult, Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, UOWTransaction
from sqlalchemy.orm.session import ORMExecuteState
from sqlalchemy.sql.dml import Delete, Insert, Update

from shared.audit_key import LEGACY, AuditKey, entry_hash, key_for, plain
from shared.audit_trail import SKIP_INFO_KEY as SKIP_INFO_KEY
from shared.audit_trail import AuditTrail as AuditTrail
from shared.audit_trail import _audited, _Change, trail_of
from shared.audit_trail import start as start
from shared.sqltypes import UTCDateTime
from shared.statements import insert_values

log = logging.getLogger(__name__)

GENESIS = "0" * 64
SEAL = "seal"  # the action of the entry that closes a chain written before the key

#: Who the current request, event or job acts as; set by authentication, the event
#: dispatcher and the periodic jobs, read when the unit of work commits.
current_actor: ContextVar[dict[str, Any] | None] = ContextVar("govit_audit_actor", default=None)

SYSTEM: dict[str, Any] = {"kind": "system"}


audit_metadata = MetaData()

audit_log = Table(
    "audit_log",
    audit_metadata,
    Column("n", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor", JSON, nullable=False),
    Column("entity", String(64), nullable=False),
    Column("key", String(255), nullable=False),
    Column("action", String(8), nullable=False),
    Column("before", JSON, nullable=True),
    Column("after", JSON, nullable=True),
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Column("alg", String(16), nullable=False),  # hmac-sha256 | hmac-sm3 | sha256 (before the key)
    info={SKIP_INFO_KEY: False},
)

audit_head = Table(
    "audit_head",
    audit_metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("n", BigInteger, nullable=False),
    Column("hash", String(64), nullable=False),
    info={SKIP_INFO_KEY: False},
)


@event.listens_for(Session, "before_flush")
def _before_flush(session: Session, _context: UOWTransaction, _instances: object) -> None:
    trail = trail_of(session)
    if trail is not None:
        trail.flushing(session)


@event.listens_for(Session, "do_orm_execute")
def _core_writes(state: ORMExecuteState) -> Any:
    """INSERT/UPDATE/DELETE statements run through the session, row by row."""
    trail = trail_of(state.session)
    statement = state.statement
    if trail is None or not isinstance(statement, Insert | Update | Delete):
        return None
    table = statement.table
    if not isinstance(table, Table) or not _audited(table):
        return None
    if state.is_orm_statement:
        # update(Model)/insert(Model) bulk statements are not read row by row here: refuse them
        # on audited tables rather than let a change through without its entry.
        raise NotImplementedError(f"ORM bulk {type(statement).__name__} on {table.name} is not audited")
    if isinstance(statement, Insert):
        return _core_insert(state, statement, table, trail)
    return _core_change(state, statement, table, trail)


def _core_insert(state: ORMExecuteState, statement: Insert, table: Table, trail: AuditTrail) -> Any:
    primary = list(table.primary_key)
    params = state.parameters
    rows: list[Mapping[str, Any]] = list(params) if isinstance(params, Sequence) else [params or {}]
    values = insert_values(statement)
    afters = [{**values, **dict(row)} for row in rows]
    generated = any(after.get(c.key) is None for after in afters for c in primary)
    if generated and not getattr(statement, "_returning", ()):
        # A key the database generates (autoincrement): read it back, or the entry names no row.
        result = state.invoke_statement(statement=statement.return_defaults(*primary))
        cursor = cast(CursorResult[Any], result)
        keys = cursor.inserted_primary_key_rows if len(afters) > 1 else [cursor.inserted_primary_key]
        for after, key in zip(afters, keys, strict=True):
            found = dict(zip(primary, key or (), strict=False))
            after.update({c.key: v for c, v in found.items() if after.get(c.key) is None})
    else:
        result = state.invoke_statement()
    for after in afters:
        trail.record(str(table.name), [after.get(c.key) for c in primary], "insert", None, after)
    return result


def _core_change(state: ORMExecuteState, statement: Update | Delete, table: Table, trail: AuditTrail) -> Any:
    primary = list(table.primary_key)
    name = str(table.name)
    where = statement.whereclause
    # The rows about to change, locked (PostgreSQL) so that what is logged is what changes.
    read = (select(table).where(where) if where is not None else select(table)).with_for_update()
    before = [dict(r._mapping) for r in state.session.execute(read)]
    result = state.invoke_statement()
    touched = getattr(result, "rowcount", -1)
    if touched not in (-1, len(before)):
        # A row committed by another transaction between the read and the write matched too.
        raise OperationalError(
            str(statement), None, RuntimeError(f"{name}: {touched} rows changed, {len(before)} read; retry")
        )
    for row in before:
        key = [row[c.key] for c in primary]
        if isinstance(statement, Delete):
            trail.record(name, key, "delete", row, None)
            continue
        match = select(table).where(*(c == k for c, k in zip(primary, key, strict=True)))
        now = state.session.execute(match).first()
        after = dict(now._mapping) if now is not None else {}
        old, new = plain(row), plain(after)
        changed = sorted(k for k in new if old.get(k) != new[k])
        if changed:
            trail.record(name, key, "update", {k: old.get(k) for k in changed}, {k: new[k] for k in changed})
    return result


@event.listens_for(Session, "before_commit")
def _append_on_commit(session: Session) -> None:
    """Every commit of an audited session writes its entries first, whoever calls commit()."""
    trail = trail_of(session)
    if trail is None or session.in_nested_transaction():
        return  # a savepoint's release: its changes wait in the trail for the transaction's commit
    session.flush()
    if trail.changes:
        append(session.connection(), trail, current_actor.get() or SYSTEM, datetime.now(UTC))


def append(connection: Connection, trail: AuditTrail, actor: Mapping[str, Any], at: datetime) -> int:
    """Write the trail's entries to the chain, under the head's row lock. Returns how many."""
    changes = list(trail.resolved())
    trail.clear()
    return _write(connection, changes, actor, at, key_for(connection))


#: The chain's head as this process last wrote it, per engine. A write first moves the head on
#: from there (`_MOVE`, matching both n and hash); only when another writer moved it meanwhile, or
#: a transaction that moved it rolled back, does it read the head under its row lock and start
#: over. The head's row lock serializes appends either way.
_heads: weakref.WeakKeyDictionary[Engine, tuple[int, str]] = weakref.WeakKeyDictionary()

_READ_HEAD = select(audit_head.c.n, audit_head.c.hash).where(audit_head.c.id == 1).with_for_update()
_MOVE = (
    audit_head.update()
    .where(audit_head.c.id == 1, audit_head.c.n == bindparam("was_n"), audit_head.c.hash == bindparam("was"))
    .values(n=bindparam("to_n"), hash=bindparam("to"))
)
_FIRST_HEAD = audit_head.insert().values(id=1, n=bindparam("to_n"), hash=bindparam("to"))
_ADD = audit_log.insert()


def _write(
    connection: Connection, changes: Sequence[_Change], actor: Mapping[str, Any], at: datetime, key: AuditKey
) -> int:
    if not changes:
        return 0
    engine = connection.engine
    known = _heads.get(engine)
    if known is not None:
        rows, head = _entries(changes, actor, at, key, *known)
    if known is None or not _move(connection, known, head):
        found = connection.execute(_READ_HEAD).first()
        start = (int(found.n), str(found.hash)) if found is not None else (0, GENESIS)
        rows, head = _entries(changes, actor, at, key, *start)
        if found is None:
            connection.execute(_FIRST_HEAD, {"to_n": head[0], "to": head[1]})
        else:
            _move(connection, start, head)
    connection.execute(_ADD, rows)
    _heads[engine] = head
    return len(rows)


def _move(connection: Connection, was: tuple[int, str], to: tuple[int, str]) -> bool:
    """Move the head from `was` to `to`; False when the head is no longer at `was`."""
    moved = connection.execute(_MOVE, {"was_n": was[0], "was": was[1], "to_n": to[0], "to": to[1]})
    return moved.rowcount == 1


def _entries(
    changes: Sequence[_Change], actor: Mapping[str, Any], at: datetime, key: AuditKey, n: int, previous: str
) -> tuple[list[dict[str, Any]], tuple[int, str]]:
    """The chain's entries for these changes after entry n (hash `previous`), and the new head."""
    rows = []
    who = plain(dict(actor))
    for change in changes:
        n += 1
        entry = {
            "n": n,
            "at": at,
            "actor": change.actor or who,
            "entity": change.entity,
            "key": json.dumps(change.key, ensure_ascii=False, separators=(",", ":")),
            "action": change.action,
            "before": change.before,
            "after": change.after,
            "prev_hash": previous,
            "alg": key.algorithm,
        }
        entry["hash"] = previous = entry_hash(entry, key)
        rows.append(entry)
    return rows, (n, previous)


def seal_legacy(connection: Connection, key: AuditKey) -> int | None:
    """Close a chain whose last entry is from before the key with one keyed entry after it.

    Its HMAC covers the last unkeyed hash, so the entries before it can no longer be rewritten
    without the key either. Returns the sealed length, or None when there was nothing to seal.
    """
    connection.execute(_READ_HEAD)  # the head's row lock: no append meanwhile
    last = connection.execute(
        select(audit_log.c.n, audit_log.c.alg).order_by(audit_log.c.n.desc()).limit(1)
    ).first()
    if last is None or last.alg != LEGACY:
        return None
    n = int(last.n)
    seal = _Change("audit_log", [], SEAL, None, {"unkeyed_entries": n, "alg": key.algorithm})
    _write(connection, [seal], SYSTEM, datetime.now(UTC), key)
    log.info("audit chain: %d entries from before the audit key sealed with %s", n, key.algorithm)
    return n
