"""Statements the unit of work runs on every event, built once: SQLAlchemy builds, annotates and
looks up in its compiled cache a statement made anew each time, which costs more than running it."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, bindparam, select, text
from sqlalchemy import inspect as sa_inspect
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import BindParameter, TextClause

NUMBERED_AT_ONCE = 400  # two parameters each, within SQLite's 999 before 3.32


@functools.lru_cache(maxsize=64)
def numbering(projects: int) -> TextClause:
    """The upsert advancing `projects` counters at once (:p0, :c0, …), returning the new values."""
    values = ", ".join(f"(:p{i}, :c{i})" for i in range(projects))
    return text(
        f"INSERT INTO event_sequence (project_id, last) VALUES {values} ON CONFLICT (project_id) "
        "DO UPDATE SET last = event_sequence.last + excluded.last RETURNING project_id, last"
    )


_BY_KEY: dict[tuple[type[Any], bool], Select[Any] | None] = {}


def by_key(model: type[Any], *, lock: bool) -> Select[Any] | None:
    """SELECT … WHERE key = :key (FOR UPDATE with `lock`) for a model with a one-column key; None
    otherwise. Built once per model: session.get builds and annotates its query on every call."""
    if (model, lock) not in _BY_KEY:
        primary = sa_inspect(model).primary_key
        statement = select(model).where(primary[0] == bindparam("key")) if len(primary) == 1 else None
        _BY_KEY[model, lock] = statement.with_for_update() if statement is not None and lock else statement
    return _BY_KEY[model, lock]


def upsert_for(dialect: str) -> Any:
    """The dialect's INSERT with ON CONFLICT; PostgreSQL's module is loaded only where it runs."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as postgresql_insert

        return postgresql_insert
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert


@functools.cache
def claiming(dialect: str) -> Insert:
    """INSERT INTO inbox … ON CONFLICT DO NOTHING RETURNING event_id, for a batch's rows at once."""
    from shared.db import inbox

    statement: Insert = upsert_for(dialect)(inbox).on_conflict_do_nothing().returning(inbox.c.event_id)
    return statement


def insert_values(statement: Insert) -> dict[str, Any]:
    """Values given with .values(...); a bare insert() compiles to NULL for every column."""
    if not statement._values and not statement._multi_values:
        return {}  # insert(table) executed with its rows as parameters: nothing to compile
    given: Mapping[Any, Any] = statement._values or {}
    if not statement._multi_values and all(
        isinstance(k, str) and isinstance(v, BindParameter) for k, v in given.items()
    ):  # .values(column=value, …): the values as given, without compiling the statement
        return {str(k): v.effective_value for k, v in given.items() if v.effective_value is not None}
    params = statement.compile().params
    return {c.key: params[c.key] for c in statement.table.columns if params.get(c.key) is not None}


_IN_KEYS: dict[type[Any], Select[Any] | None] = {}


def in_keys(model: type[Any]) -> Select[Any] | None:
    """SELECT … WHERE key IN :keys ORDER BY key FOR UPDATE for a model with a one-column key
    (None otherwise): a batch's rows read and locked at once, in the same order by every reader."""
    if model not in _IN_KEYS:
        primary = sa_inspect(model).primary_key
        where = primary[0].in_(bindparam("keys", expanding=True))
        statement = select(model).where(where).order_by(primary[0]).with_for_update()
        _IN_KEYS[model] = statement if len(primary) == 1 else None
    return _IN_KEYS[model]
