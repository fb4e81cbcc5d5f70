"""Money is whole fen (分) as integers: never float, never a string that merely looks like one."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

Fen = Annotated[int, Field(strict=True, ge=0, le=10**15)]
PositiveFen = Annotated[int, Field(strict=True, gt=0, le=10**15)]


def yuan(fen: int) -> str:
    """¥ amount for people to read: 12345678 → '123,456.78'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"
