"""FastAPI dependencies shared by every service's api.py."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, TypeVar

from fastapi import Depends, Header, Request

from shared.consume import HandlerContext
from shared.db import UnitOfWork
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar

U = TypeVar("U", bound=UnitOfWork)

# Methods that change nothing (RFC 9110 §9.2.1): their unit of work only reads.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def unit_of_work(cls: type[U]) -> Callable[[Request], Awaitable[U]]:
    """A dependency giving a fresh unit of work of the service's own class; for a safe method
    (GET) a reader's, which waits for no writer (shared.db.READ_ONLY). Dependencies are `async`,
    even where they do not wait: FastAPI runs a plain function in a worker thread, a hand-off per
    dependency per request."""

    async def provide(request: Request) -> U:
        runtime = request.app.state.runtime
        uow = runtime.new_reader() if request.method in SAFE_METHODS else runtime.new_uow()
        if not isinstance(uow, cls):
            raise TypeError(f"expected {cls.__name__}, got {type(uow).__name__}")
        return uow

    return provide


async def _policy(request: Request) -> PolicyRegistry:
    registry: PolicyRegistry = request.app.state.policy
    return registry


async def _calendar(request: Request) -> WorkingCalendar:
    calendar: WorkingCalendar = request.app.state.calendar
    return calendar


async def _now(request: Request) -> datetime:
    now: datetime = request.app.state.clock()
    return now


async def _context(request: Request) -> HandlerContext:
    """What a command is judged by — the same HandlerContext an event handler gets — with the
    service's clock read once for the whole request."""
    instant: datetime = request.app.state.clock()
    return HandlerContext(
        policy=request.app.state.policy, calendar=request.app.state.calendar, now=lambda: instant
    )


PolicyDep = Annotated[PolicyRegistry, Depends(_policy)]
ContextDep = Annotated[HandlerContext, Depends(_context)]  # policy, calendar and the request's instant
NowDep = Annotated[datetime, Depends(_now)]  # the service's clock (UTC), injectable in tests
CalendarDep = Annotated[WorkingCalendar, Depends(_calendar)]
IdempotencyKey = Annotated[
    str | None,
    Header(alias="Idempotency-Key", max_length=128, description="重试同一请求时使用相同的键"),
]
