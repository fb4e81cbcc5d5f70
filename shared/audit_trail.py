"""The changes of one unit of work, gathered from its session until they are written to the chain.

A change is seen when the session flushes (shared.audit listens for it) and fixed (`settle`) as
a plain row naming who made it: a savepoint's or a batch part's actor. A part of a batch kept
whole may fix its changes without a flush (`capture`): each object is then remembered as it
stood, so that a later part changing it again is logged from there, and the rows reach the
database in one flush at the end, as SQLAlchemy batches them.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Table, inspect
from sqlalchemy.orm import Session

from shared.audit_key import plain

SKIP_INFO_KEY = "audit"  # Table(..., info={"audit": False}): bookkeeping, not state (outbox, inbox)


@dataclass
class _Change:
    entity: str
    key: list[Any] | None
    action: str  # insert | update | delete
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    obj: Any = None  # the ORM object, whose final state is read at commit
    actor: dict[str, Any] | None = None  # fixed by settle(); else whoever commits


@dataclass(frozen=True, slots=True)
class _Captured:
    obj: Any
    state: Any  # its InstanceState
    logged: dict[str, Any]  # its columns as the entry has them
    attributes: dict[str, Any]  # its attributes then: unchanged since when they compare equal
    deleted: bool


@dataclass
class AuditTrail:
    """The changes of one unit of work, collected from the session until it commits."""

    changes: list[_Change] = field(default_factory=list)
    _by_object: dict[int, _Change] = field(default_factory=dict)
    _settled: int = 0  # changes[:_settled] are fixed rows (settle)
    # Objects whose changes were fixed but not flushed (capture), by id: how each was logged.
    _captured: dict[int, _Captured] = field(default_factory=dict)

    def clear(self) -> None:
        self.changes.clear()
        self._by_object.clear()
        self._captured.clear()
        self._settled = 0

    def record(
        self,
        entity: str,
        key: Sequence[Any] | None,
        action: str,
        before: Mapping[str, Any] | None,
        after: Mapping[str, Any] | None,
    ) -> None:
        self.changes.append(
            _Change(
                entity,
                None if key is None else [plain(k) for k in key],
                action,
                None if before is None else plain(dict(before)),
                None if after is None else plain(dict(after)),
            )
        )

    def collect(self, session: Session) -> None:
        """See what the session is about to write: new, changed and deleted audited objects."""
        for obj in session.new:
            # one captured before is audited (no need to ask), and _seen tells what changed since
            if id(obj) in self._captured or _audited(inspect(obj).mapper.local_table):
                self._seen(obj, "insert")
        for obj in session.dirty:
            audited = _audited(inspect(obj).mapper.local_table)
            if audited and session.is_modified(obj, include_collections=False):
                self._seen(obj, "update")
        for obj in session.deleted:
            if _audited(inspect(obj).mapper.local_table):
                self._seen(obj, "delete")

    def flushing(self, session: Session) -> None:
        """The session flushes: what it writes is seen, and what was captured is in the database
        after it (a later change is logged from the values read back, as usual)."""
        self.collect(session)
        self._captured.clear()

    def _seen(self, obj: Any, action: str) -> None:
        if id(obj) in self._by_object:
            if action == "delete":
                self._by_object[id(obj)].action = "delete"
            return
        before: dict[str, Any] | None
        captured = self._captured.get(id(obj))
        if captured is not None:
            # Fixed by an earlier part as it stood then: only what changed since is this part's.
            if captured.deleted or (action != "delete" and inspect(obj).dict == captured.attributes):
                return
            action, before = ("delete" if action == "delete" else "update"), captured.logged
        else:
            before = None if action == "insert" else _committed_columns(obj)
        change = _Change(_entity(obj), None, action, before, None, obj)
        self._by_object[id(obj)] = change
        self.changes.append(change)

    def mark(self) -> int:
        """Where the trail stands now: rollback_to(mark) forgets what was collected since."""
        return len(self.changes)

    def rollback_to(self, mark: int) -> None:
        for change in self.changes[mark:]:
            if change.obj is not None:
                self._by_object.pop(id(change.obj), None)
        del self.changes[mark:]
        self._settled = min(self._settled, mark)

    def settle(self, actor: Mapping[str, Any], columns: dict[int, dict[str, Any]] | None = None) -> None:
        """Fix the changes collected since the last settle (after a flush) as plain rows made by
        `actor`: a later rollback or a later change of the same object leaves them as they are.
        `columns` is told each changed object's columns as read, by id."""
        who = plain(dict(actor))
        settled: list[_Change] = []
        for change in self.changes[self._settled :]:
            if change.obj is not None:
                self._by_object.pop(id(change.obj), None)
            final = _resolve(change, columns)
            if final is not None:
                final.actor = who
                settled.append(final)
        self.changes[self._settled :] = settled
        self._settled = len(self.changes)

    def capture(self, session: Session, actor: Mapping[str, Any]) -> bool:
        """Fix the session's changes since the last settle under `actor` without flushing them;
        False, having done nothing, when a new or changed row gets values only a flush gives it
        (a key or a default the database or SQLAlchemy fills in): then flush and settle instead.

        Each part of a batch asks, and the objects earlier parts captured are still pending: for
        those only whether they changed since is asked, with no look at their mapping, so that a
        part costs about the same whatever the batch has written before it."""
        captured = self._captured
        # the objects captured before passed here already
        fresh = [o for o in session.new if id(o) not in captured and _audited(inspect(o).mapper.local_table)]
        dirty = [
            o for o in session.dirty if id(o) not in captured and _audited(inspect(o).mapper.local_table)
        ]
        if not all(_complete(obj) for obj in (*fresh, *dirty)):
            return False
        for obj in fresh:
            self._seen(obj, "insert")
        for obj in dirty:
            if session.is_modified(obj, include_collections=False):
                self._seen(obj, "update")
        deleted = {id(o): o for o in session.deleted}
        self._captured_since(session, deleted)
        for key, obj in deleted.items():
            if key not in captured and _audited(inspect(obj).mapper.local_table):
                self._seen(obj, "delete")
        fixed = [c.obj for c in self.changes[self._settled :] if c.obj is not None]
        columns: dict[int, dict[str, Any]] = {}
        self.settle(actor, columns)
        for obj in fixed:
            state = inspect(obj)
            dropped = id(obj) in deleted
            if state.pending or state.modified or dropped:  # not in the database as logged: remember it
                logged = columns.get(id(obj)) or _columns(obj)
                captured[id(obj)] = _Captured(obj, state, logged, dict(state.dict), dropped)
        return True

    def _captured_since(self, session: Session, deleted: Mapping[int, Any]) -> None:
        """What became of the objects captured before: changed again, deleted, or let go before
        their flush (expunged: logged as deleted again)."""
        gone: list[_Captured] = []
        for key, was in self._captured.items():
            if was.deleted:
                continue
            if key in deleted:
                self._seen(was.obj, "delete")
            elif was.state.session_id != session.hash_key:  # transient or detached: not in this session
                gone.append(was)
            elif was.state.dict != was.attributes:
                self._seen(was.obj, "update")
        for was in gone:
            del self._captured[id(was.obj)]
            primary = [was.logged.get(c.key) for c in was.state.mapper.primary_key]
            self.changes.append(_Change(_entity(was.obj), primary, "delete", was.logged, None))

    def resolved(self) -> Iterator[_Change]:
        """Each change with its final state; updates reduced to the columns that changed."""
        for change in self.changes:
            final = _resolve(change)
            if final is not None:
                yield final


def _resolve(change: _Change, columns: dict[int, dict[str, Any]] | None = None) -> _Change | None:
    if change.obj is None:
        return change
    state = inspect(change.obj)
    identity = (
        state.identity if state.identity is not None else state.mapper.primary_key_from_instance(change.obj)
    )
    key = [plain(k) for k in (identity or ())]
    if change.action == "delete":
        if change.before is not None and state.identity is not None:
            return _Change(change.entity, key, "delete", change.before, None)
        return None
    now = _columns(change.obj)
    if columns is not None:
        columns[id(change.obj)] = now
    if change.action == "insert":
        return _Change(change.entity, key, "insert", None, now) if state.persistent or state.pending else None
    before = change.before or {}
    changed = sorted(k for k in now if k in before and before[k] != now[k])
    if not changed:
        return None
    old, new = {k: before[k] for k in changed}, {k: now[k] for k in changed}
    return _Change(change.entity, key, "update", old, new)


def _complete(obj: Any) -> bool:
    """Whether the object's row is known before a flush: a key, and no column a flush fills in."""
    state = inspect(obj)
    if not _fills_nothing(state.mapper.local_table):
        return False
    return state.key is not None or None not in state.mapper.primary_key_from_instance(obj)


@functools.cache
def _fills_nothing(table: Table) -> bool:
    return not any(
        c.default is not None or c.server_default is not None or c.onupdate is not None or c.server_onupdate
        for c in table.columns
    )


def _entity(obj: Any) -> str:
    return str(inspect(obj).mapper.local_table.name)


def _columns(obj: Any) -> dict[str, Any]:
    state = inspect(obj)
    loaded = state.dict
    return {attr.key: plain(loaded[attr.key]) for attr in state.mapper.column_attrs if attr.key in loaded}


def _committed_columns(obj: Any) -> dict[str, Any]:
    """The values as loaded from the database, before this unit changed them."""
    state = inspect(obj)
    values: dict[str, Any] = {}
    for attr in state.mapper.column_attrs:
        history = state.attrs[attr.key].history
        if history.deleted:
            values[attr.key] = plain(history.deleted[0])
        elif history.unchanged:
            values[attr.key] = plain(history.unchanged[0])
        elif not history.added:
            continue  # not loaded
        else:
            values[attr.key] = None  # was NULL
    return values


def trail_of(session: Session) -> AuditTrail | None:
    trail = session.info.get("audit")
    return trail if isinstance(trail, AuditTrail) else None


def start(session: Session) -> AuditTrail:
    trail = AuditTrail()
    session.info["audit"] = trail
    return trail


def _audited(table: Any) -> bool:
    return bool(getattr(table, "info", {}).get(SKIP_INFO_KEY, True))
