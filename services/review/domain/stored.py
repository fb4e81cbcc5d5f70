"""Records that read as the JSON they are stored as.

A case keeps its seats, candidates and reports as typed records; the cases table keeps them as
JSON lists. A record subclassing `Stored` is also a read-only mapping of its stored JSON, so what
treats column values as plain data — the audit log's before and after of a row — sees the same
JSON as the table, not the record's repr.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class Stored(Mapping[str, Any]):
    """Mixin for a frozen dataclass with `stored()`: its mapping is that JSON object."""

    __slots__ = ()

    def stored(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.stored()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.stored())

    def __len__(self) -> int:
        return len(self.stored())
