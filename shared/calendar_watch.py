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
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from shared.workdays import WorkingCalendar, changed_years

log = logging.getLogger(__name__)

Fingerprint = tuple[tuple[str, int, int], ...]
#: (old calendar, new calendar) → moves the open deadlines that depend on the difference
Recompute = Callable[[WorkingCalendar, WorkingCalendar], Awaitable[None]]


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
    seen: Fingerprint = field(default=())
    settled: WorkingCalendar | None = None  # the calendar the stored deadlines were last settled by

    def __post_init__(self) -> None:
        self.seen = fingerprint(self.directory)
        self.settled = self.calendar

    async def look(self) -> bool:
        """One look at the directory; True when the service now runs by a new calendar."""
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

    async def _settle(self) -> None:
        settled = self.settled or self.calendar
        if settled is self.calendar:
            return
        if self.recompute is not None and changed_years(settled, self.calendar):
            await self.recompute(settled, self.calendar)
        self.settled = self.calendar

    async def run(self, every: float, stop: asyncio.Event) -> None:
        """Look every `every` seconds until the service stops; a failure waits for the next look."""
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), every)
            if stop.is_set():
                return
            try:
                await self.look()
            except Exception:
                log.exception("recomputing the deadlines after a calendar change failed; trying again")
