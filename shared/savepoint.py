"""Savepoints of a unit of work: one part of a transaction that fails alone (and parts without
one, for a batch that is tried whole first).

A consumer settling a batch of events in one transaction gives each event a savepoint. When
the event's work ends normally it is flushed and fixed: its audit changes become plain rows
naming the actor it ran as, its events are written to the outbox (with the trace it ran in),
so that neither a later event's rollback nor a later change of the same object alters them.
When it fails, the database goes back to the savepoint and the unit forgets what it gathered
since; the objects of the session are let go, so the next event reads afresh what the
transaction holds (earlier events' changes, flushed and kept).
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from shared import audit

if TYPE_CHECKING:
    from shared.db import UnitOfWork

log = logging.getLogger(__name__)


class AlreadyHandled(Exception):
    """The inbox claim in a savepoint met the row of a concurrent delivery of the same event:
    the savepoint is rolled back and the event counts as handled before."""


@contextlib.asynccontextmanager
async def savepoint(uow: UnitOfWork) -> AsyncIterator[None]:
    """SAVEPOINT … RELEASE around the block; on an exception ROLLBACK TO it, and re-raise."""
    if uow.broken:
        raise RuntimeError("the unit's transaction was lost in an earlier savepoint; roll it back")
    session = uow.session
    await _fix(uow)  # what the unit did before it stays, whatever happens in it
    nested = await session.begin_nested()
    mark, held = uow._audit.mark(), len(uow._held)
    uow._nested += 1
    try:
        yield
        await _fix(uow)
        await nested.commit()
    except BaseException:
        uow._audit.rollback_to(mark)
        del uow._held[held:]
        _forget_events(uow)
        try:
            await nested.rollback()  # also after a failed flush, which left it inactive
        except Exception as exc:
            uow.broken = True  # the connection is gone or the transaction aborted: nothing to keep
            log.warning("rolling back to a savepoint failed: %r", exc)
        session.expunge_all()
        uow.read_ahead.clear()
        raise
    finally:
        uow._nested -= 1


@contextlib.asynccontextmanager
async def part(uow: UnitOfWork) -> AsyncIterator[None]:
    """One event's part of a transaction that is kept whole or not at all: no SAVEPOINT, fixed at
    its end as a savepoint's work is, but without a flush where the audit trail can capture the
    part's changes as they stand (shared.audit_trail): the batch's rows then reach the database
    together. An exception leaves the whole unit to be rolled back. Not fixed at its start as
    well: the part before it ended fixed, and before the first there is only the batch's inbox
    claim, which is neither audited nor raises events."""
    uow._nested += 1
    try:
        yield
        if uow._audit.capture(uow.session.sync_session, audit.current_actor.get() or audit.SYSTEM):
            uow.hold()
        else:
            await _fix(uow)
    finally:
        uow._nested -= 1


async def _fix(uow: UnitOfWork) -> None:
    """Flush, settle the audit changes under the current actor (the block's: shared.audit reads
    it now, not at commit), and hold the events raised so far with the block's trace: they are
    written to the outbox, numbered, when the unit commits."""
    await uow.session.flush()
    uow._audit.settle(audit.current_actor.get() or audit.SYSTEM)
    uow.hold()


def _forget_events(uow: UnitOfWork) -> None:
    """Drop the events raised since the savepoint (earlier ones were held at its start)."""
    uow._emitted.clear()
    for aggregate in uow._tracked:
        aggregate.events.clear()
    uow._tracked = []
