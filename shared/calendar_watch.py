"""A running service picks up a newly loaded holiday notice without a restart.

`govit calendar load` writes `<calendar_path>/<year>.yaml`; on Kubernetes a ConfigMap mounted as
the calendar directory is updated in place. Every service looks at the directory every
GOVIT_CALENDAR_POLL_SECONDS (the files' names, sizes and modification times); when it changed,
the service reads the notices again, runs by the new calendar from then on (requests, event
handlers, periodic jobs, the 暂定 flags) and hands the old and the new calendar to its
`recompute` hook, which moves the open deadlines that depend on them and announces each move.

A hook that fails (the database away) is tried again at the next look, from the calendar the
deadlines were last settled by; the hooks compare stored due dates with what the old calendar
gave, so running one twice (or in two replicas) moves and announces each due date once.

A service with a hook records each settled calendar in its database (shared.calendar_store). At
its first look, at start, it reads that record back: notices loaded while it was stopped are
settled then, as if it had been running.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from shared.clock import utcnow
from shared.workdays import WorkingCalendar, changed_years

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]
#: (old calendar, new calendar) → moves the open deadlines that depend on the difference
Recompute = Callable[[WorkingCalendar, WorkingCalendar], Awaitable[None]]


class Settled(Protocol):
    """Where the calendar the deadlines were last settled by is kept (shared.calendar_store)."""

    async def load(self) -> WorkingCalendar | None: ...

    async def save(self, calendar: WorkingCalendar, at: datetime) -> None: ...


def fingerprint(directory: Path) -> Fingerprint:
    """What tells a changed directory: each notice file's name, size and modification time
    (followed through symbolic links, as a mounted ConfigMap has them)."""
    if not directory.is_dir():
        return ()
    found = []
    for path in sorted(directory.glob("*.yaml")):
        with contextlib.suppress(OSError):  # removed between listing and looking
            stat = path.stat()
            found.append((path.name, stat.st_size, stat.st_mtime_ns))
    return tuple(found)


@dataclass
class CalendarWatch:
    """Watches one calendar directory for one service."""

    directory: Path
    calendar: WorkingCalendar  # the calendar the service runs by
    swap: Callable[[WorkingCalendar], None]  # makes a new calendar the service's
    recompute: Recompute | None = None
    store: Settled | None = None
    clock: Callable[[], datetime] = utcnow
    seen: Fingerprint = field(default=())
    settled: WorkingCalendar | None = None  # the calendar the stored deadlines were last settled by
    resumed: bool = False  # the record of the last settlement has been read

    def __post_init__(self) -> None:
        self.seen = fingerprint(self.directory)
        self.settled = self.calendar

    async def look(self) -> bool:
        """One look at the directory; True when the service now runs by a new calendar."""
        if not self.resumed:
            await self._resume()
        now = fingerprint(self.directory)
        changed = now != self.seen
        if changed:
            self.seen = now
            try:
                fresh = WorkingCalendar.from_dir(self.directory)
            except Exception:  # a notice that does not validate: keep the calendar in force
                log.exception("holiday notices in %s could not be read; the calendar stays", self.directory)
                return False
            self.calendar = fresh
            self.swap(fresh)
            log.info("holiday notices reloaded from %s: %s", self.directory, sorted(fresh.notices))
        await self._settle()
        return changed

    async def _resume(self) -> None:
        """The calendar the stored deadlines were settled by, as recorded before this start; the
        first start records the one it runs by."""
        if self.store is not None:
            recorded = await self.store.load()
            if recorded is None:
                await self.store.save(self.calendar, self.clock())
            else:
                self.settled = recorded
        self.resumed = True

    async def _settle(self) -> None:
        settled = self.settled or self.calendar
        if settled is self.calendar:
            return
        if changed_years(settled, self.calendar):
            if self.recompute is not None:
                await self.recompute(settled, self.calendar)
            if self.store is not None:
                await self.store.save(self.calendar, self.clock())
        self.settled = self.calendar

    async def run(self, every: float, stop: asyncio.Event) -> None:
        """Look at once, then every `every` seconds until the service stops; a failure waits for
        the next look."""
        first = True
        while not stop.is_set():
            if not first:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), every)
            first = False
            if stop.is_set():
                return
            try:
                await self.look()
            except Exception:
                log.exception("recomputing the deadlines after a calendar change failed; trying again")
