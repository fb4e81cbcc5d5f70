"""What wakes a waiting walk: the suite's events, as they are published.

A walk waits for a service to have done something (a plan published, a case concluded, a payment
released). Instead of asking on a timer it asks again whenever an event of the suite passes on
NATS — the service's state is committed before its event leaves the outbox — and, for a state no
event announces (a consumer having recorded a fact), after a short fallback at the latest.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading

import nats

log = logging.getLogger(__name__)


class EventWatch:
    """A core NATS subscription to `<prefix>.events.>` on a thread of its own, counting events."""

    def __init__(self, url: str, prefix: str) -> None:
        self.url = url
        self.subject = f"{prefix}.events.>"
        self._seen = 0
        self._changed = threading.Condition()
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._run, name="govit-demo-watch", daemon=True)
        self.watching = False

    def start(self, timeout: float = 5) -> EventWatch:
        """Subscribe; if NATS cannot be reached (or refuses the subscription) the walk polls."""
        self._thread.start()
        self._ready.wait(timeout)
        return self

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop, self._stop = asyncio.get_running_loop(), asyncio.Event()
        try:
            nc = await nats.connect(self.url, name="govit-demo", connect_timeout=3, max_reconnect_attempts=3)
            await nc.subscribe(self.subject, cb=self._arrived)
            await nc.flush(timeout=3)
        except Exception as exc:
            log.info("demo: no event watch on %s (%r); the walk polls", self.url, exc)
            self._ready.set()
            return
        self.watching = True
        self._ready.set()
        try:
            await self._stop.wait()
        finally:
            with contextlib.suppress(Exception):
                await nc.close()

    async def _arrived(self, _msg: object) -> None:
        with self._changed:
            self._seen += 1
            self._changed.notify_all()

    def seen(self) -> int:
        """How many events have passed so far: a mark to wait after."""
        with self._changed:
            return self._seen

    def wait_after(self, mark: int, timeout: float) -> None:
        """Until an event passes after `mark`, or `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._seen > mark, timeout)

    def close(self) -> None:
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(5)
