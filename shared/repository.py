"""Repositories of aggregates: each loads and adds one kind, tracked by its unit of work."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar, Generic, Protocol, TypeVar

from sqlalchemy import inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.attributes import instance_state
from sqlalchemy.orm.util import identity_key

from shared.contracts import Event
from shared.statements import by_key, in_keys

if TYPE_CHECKING:
    from shared.db import UnitOfWork


class HasEvents(Protocol):
    events: list[Event]


A = TypeVar("A", bound=HasEvents)


class AggregateRepository(Generic[A]):
    """Adds and loads one kind of aggregate, tracked by the unit of work so that the events
    it raises are written to the outbox with the commit. Services add their own queries."""

    model: ClassVar[type[Any]]
    locks: ClassVar[bool] = True  # get() takes the row lock (SELECT … FOR UPDATE) unless told not to

    def __init__(self, session: AsyncSession, uow: UnitOfWork) -> None:
        self.session = session
        self.uow = uow

    def add(self, aggregate: A) -> None:
        self.session.add(aggregate)
        self.uow.track(aggregate)
        read = self.uow.read_ahead
        if read:
            key = (self.model, *inspect(self.model).primary_key_from_instance(aggregate))
            if key in read:  # read as missing with the batch: get() finds it from now on
                read[key] = aggregate

    async def preload(self, keys: Sequence[Any]) -> None:
        """Read the aggregates of a consumer's batch at once, locked, in key order (two batches
        lock alike): get() then answers for these keys, found or not, without a statement."""
        wanted = sorted(set(keys))
        statement = in_keys(self.model)
        if statement is None or not wanted:
            return
        rows = (await self.session.execute(statement, {"keys": wanted})).scalars().all()
        found = {inspect(row).identity[0]: row for row in rows}
        for key in wanted:
            self.uow.read_ahead[(self.model, key)] = found.get(key)

    async def get(self, key: Any, *, for_update: bool | None = None) -> A | None:
        found: A | None
        if (self.model, key) in self.uow.read_ahead:  # read, and locked, with the batch
            found = self.uow.read_ahead[(self.model, key)]
            if found is not None and instance_state(found).was_deleted:
                found = None
        else:
            found = await self._get(key, for_update)
        if found is not None:
            self.uow.track(found)
        return found

    async def _get(self, key: Any, for_update: bool | None) -> A | None:
        # A reader locks nothing: PostgreSQL refuses FOR UPDATE in a READ ONLY transaction, and
        # a read must not wait for the writer holding the row.
        lock = not self.uow.read_only and (self.locks if for_update is None else for_update)
        statement = by_key(self.model, lock=lock)
        if statement is None or (not lock and identity_key(self.model, key) in self.session.identity_map):
            return await self.session.get(self.model, key, with_for_update=lock)  # held already: no SQL
        # What session.get runs (FOR UPDATE: always, the lock), built once, not on every call.
        found: A | None = (await self.session.execute(statement, {"key": key})).scalars().first()
        return found

    def tracked(self, found: Iterable[A]) -> list[A]:
        """Aggregates loaded by a query of the service's own, tracked like the ones from get()."""
        items = list(found)
        for item in items:
            self.uow.track(item)
        return items
