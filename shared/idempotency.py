"""Idempotent creation: a retry carrying the same Idempotency-Key returns what the first made."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from sqlalchemy.exc import IntegrityError

from shared.db import UnitOfWork

T = TypeVar("T")


class IdempotencyKeyReused(Exception):
    """The key was already used for a request with different content."""

    code = "idempotency_key_reused"
    title = "幂等键已用于内容不同的请求"


async def create_once(
    uow: UnitOfWork,
    key: str | None,
    *,
    earlier: Callable[[], Awaitable[T | None]],
    same: Callable[[T], bool],
    create: Callable[[], Awaitable[T]],
) -> tuple[T, bool]:
    """(the thing, created?) — `create` adds and commits; a concurrent twin loses on the unique key."""

    def check(found: T) -> tuple[T, bool]:
        if not same(found):
            raise IdempotencyKeyReused(f"幂等键 {key} 已用于内容不同的请求，请换用新的键")
        return found, False

    if key:
        found = await earlier()
        if found is not None:
            return check(found)
    try:
        return await create(), True
    except IntegrityError:
        if not key:
            raise
        await uow.rollback()
        found = await earlier()
        if found is None:
            raise
        return check(found)
