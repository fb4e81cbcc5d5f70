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

    # What the file said, by its inode, modification time and size: read again only when one of
    # them changes, a stat instead of a read per call. set_clock renames a new file over it (a new
    # inode); a rewrite in place of the same length is seen once the file system's clock has ticked.
    seen: dict[tuple[int, int, int], datetime | None] = {}

    def now() -> datetime:
        try:
            stat = os.stat(path)
        except FileNotFoundError:
            return utcnow()
        key = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        if key not in seen:
            seen.clear()
            seen[key] = _instant(path)
        return seen[key] or utcnow()

    return now


def _instant(path: Path) -> datetime | None:
    try:
        written = path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not written:
        return None
    instant = datetime.fromisoformat(written)
    if instant.tzinfo is None:
        raise ValueError(f"{path}: the instant needs an offset, e.g. 2026-06-15T10:00:00+08:00")
    return instant.astimezone(UTC)


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
