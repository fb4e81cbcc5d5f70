"""The audit log folded into rows, compared with the rows the tables hold now.

Replaying each row's entries in order (insert: its columns; update: the columns after;
delete: gone) gives what every audited row should hold if every change went through a unit of
work. A row edited by hand (SQL on the database, a disbursement's amount ×100) differs from it;
a row inserted by hand is not in the log; a row deleted by hand is in the log but gone. Only
the columns the log recorded are compared (a column filled by the database alone never was).
Rows written before the service had an audit log are not in it either: they are named too.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

from sqlalchemy import Table, select
from sqlalchemy.engine import Connection

from shared.audit import SEAL, audit_log
from shared.audit_key import plain


@dataclass(frozen=True)
class Difference:
    """One row whose state the log does not explain."""

    table: str
    key: str  # the primary key as the log writes it, JSON: ["d-1"]
    kind: Literal["changed", "unlogged", "gone"]
    column: str | None = None
    logged: Any = None
    actual: Any = None

    def message(self) -> str:
        where = f"表 {self.table} 主键 {self.key}"
        if self.kind == "changed":
            logged, actual = _shown(self.logged), _shown(self.actual)
            return (
                f"{where} 列 {self.column}：日志记为 {logged}，实际为 {actual} (table {self.table}, "
                f"key {self.key}, column {self.column}: logged {logged}, actual {actual})"
            )
        if self.kind == "unlogged":
            return f"{where}：此行不在审计日志中 (table {self.table}, key {self.key}: row not in the log)"
        return (
            f"{where}：日志记载此行存在，但已不在表中 "
            f"(table {self.table}, key {self.key}: the log says this row exists, it is gone)"
        )


def _shown(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 120 else text[:117] + "..."


def row_key(values: Iterable[Any]) -> str:
    return json.dumps([plain(v) for v in values], ensure_ascii=False, separators=(",", ":"))


def fold(connection: Connection, *, batch: int = 2000) -> dict[str, dict[str, dict[str, Any]]]:
    """entity → key → the columns the log says the row holds now (rows deleted are absent)."""
    rows: dict[str, dict[str, dict[str, Any]]] = {}
    after = 0
    log = audit_log.c
    while True:
        entries = connection.execute(
            select(log.n, log.entity, log.key, log.action, log.after)
            .where(log.n > after, log.action != SEAL)
            .order_by(log.n)
            .limit(batch)
        ).all()
        if not entries:
            return rows
        for entry in entries:
            table = rows.setdefault(entry.entity, {})
            if entry.action == "insert":
                table[entry.key] = dict(entry.after or {})
            elif entry.action == "update":
                table.setdefault(entry.key, {}).update(entry.after or {})
            elif entry.action == "delete":
                table.pop(entry.key, None)
        after = int(entries[-1].n)


def compare(connection: Connection, tables: Iterable[Table]) -> list[Difference]:
    """Every row of `tables` whose columns differ from the folded log, is not in it, or is gone."""
    folded = fold(connection)
    found: list[Difference] = []
    for table in sorted(tables, key=lambda t: t.name):
        logged_rows = folded.get(table.name, {})
        primary = list(table.primary_key)
        seen: set[str] = set()
        for row in connection.execute(select(table).order_by(*primary)):
            values = row._mapping
            key = row_key(values[c.key] for c in primary)
            seen.add(key)
            logged = logged_rows.get(key)
            if logged is None:
                found.append(Difference(table.name, key, "unlogged"))
                continue
            for column, value in sorted(logged.items()):
                if column not in values:
                    continue  # a column dropped since: nothing to compare with
                actual = plain(values[column])
                if actual != value:
                    found.append(Difference(table.name, key, "changed", column, value, actual))
        found.extend(Difference(table.name, key, "gone") for key in sorted(logged_rows.keys() - seen))
    return found
