"""Money is whole fen (分) as integers: never float, never a string that merely looks like one."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import Field

Fen = Annotated[int, Field(strict=True, ge=0, le=10**15)]
PositiveFen = Annotated[int, Field(strict=True, gt=0, le=10**15)]


def yuan(fen: int) -> str:
    """¥ amount for people to read: 12345678 → '123,456.78'."""
    sign = "-" if fen < 0 else ""
    whole, cents = divmod(abs(fen), 100)
    return f"{sign}{whole:,}.{cents:02d}"


def yuan_text(fen: int) -> str:
    """An amount in fen as people read it in 元: 120000000 → '1,200,000.00 元', -1 → '-0.01 元'.

    Decimal from the integer (exact at any size), never float."""
    amount = Decimal(f"{int(fen)}e-2")  # exact: no context rounding, whatever the size
    return f"{amount:,.2f} 元"
