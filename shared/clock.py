"""The services' clock: real time in UTC, or an instant read from a file for tests and demos."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path


def utcnow() -> datetime:
    return datetime.now(UTC)


def file_clock(path: Path) -> Callable[[], datetime]:
    """A clock reading the instant from a file (ISO 8601 with offset), for tests and demos that
    cross deadlines without waiting; the real clock while the file is missing or empty."""

    def now() -> datetime:
        try:
            written = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return utcnow()
        if not written:
            return utcnow()
        instant = datetime.fromisoformat(written)
        if instant.tzinfo is None:
            raise ValueError(f"{path}: the instant needs an offset, e.g. 2026-06-15T10:00:00+08:00")
        return instant.astimezone(UTC)

    return now


def set_clock(path: Path, instant: datetime) -> None:
    """Move the services reading `path` (file_clock) to `instant`, in one step: written beside it
    and renamed over it, so that a service reading it meanwhile never sees it half written (an
    empty file reads as real time, and an event dated by the moved clock would look far ahead)."""
    if instant.tzinfo is None:
        raise ValueError("the instant needs an offset")
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    staged.write_text(instant.isoformat(), encoding="utf-8")
    os.replace(staged, path)
