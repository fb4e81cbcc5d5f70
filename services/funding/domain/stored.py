"""A typed record that reads as the JSON it is stored as.

The database column and the audit log hold that JSON: a record read back from the table, or
logged as it changes, shows the same keys and values as before the record was typed.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any


class Stored(Mapping[str, Any]):
    """A record whose `stored()` JSON is also what it reads as, key by key."""

    def stored(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        return self.stored()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self.stored())

    def __len__(self) -> int:
        return len(self.stored())
